import { Command } from '@nestjs/cqrs';
import type { EventMetadata } from '@app/event-store';
import type { WriteResult } from '../write-result';

/** Rename a user; with `expectedVersion` (from If-Match) the rename fails on any concurrent change. */
export class RenameUserCommand extends Command<WriteResult> {
  constructor(
    readonly userId: string,
    readonly firstName: string,
    readonly lastName: string,
    readonly expectedVersion: number | undefined,
    readonly metadata: EventMetadata,
  ) {
    super();
  }
}
