import { Command } from '@nestjs/cqrs';
import type { EventMetadata } from '@app/event-store';
import type { WriteResult } from '../write-result';

/** Forget a user (a data-protection erasure request). */
export class EraseUserCommand extends Command<WriteResult> {
  constructor(
    readonly userId: string,
    readonly metadata: EventMetadata,
  ) {
    super();
  }
}
