import { Command } from '@nestjs/cqrs';
import type { EventMetadata } from '@app/event-store';
import type { WriteResult } from '../write-result';

/** Award points. Awards commute, so a concurrency conflict is retried on fresh state. */
export class AwardPointsCommand extends Command<WriteResult> {
  constructor(
    readonly userId: string,
    readonly points: number,
    readonly reason: string,
    readonly metadata: EventMetadata,
  ) {
    super();
  }
}
