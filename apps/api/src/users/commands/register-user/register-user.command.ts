import { Command } from '@nestjs/cqrs';
import type { EventMetadata } from '@app/event-store';
import type { WriteResult } from '../write-result';

/** Register a new user. */
export class RegisterUserCommand extends Command<WriteResult> {
  constructor(
    readonly firstName: string,
    readonly lastName: string,
    readonly email: string,
    readonly metadata: EventMetadata,
  ) {
    super();
  }
}
