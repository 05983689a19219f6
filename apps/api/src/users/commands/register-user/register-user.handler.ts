import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { randomUUID } from 'node:crypto';
import { CommandRepository } from '../../../common/command-repository';
import { EmailReservations } from '../../email-reservations';
import { User } from '../../user.aggregate';
import { EmailTakenError } from '../../users.errors';
import { writeResultOf, type WriteResult } from '../write-result';
import { RegisterUserCommand } from './register-user.command';

/**
 * Registers a user whose email no one holds: the registration's events and the email's
 * reservation commit together, so of concurrent registrations of one email exactly one
 * succeeds; the others get EmailTakenError and append nothing.
 */
@CommandHandler(RegisterUserCommand)
export class RegisterUserHandler implements ICommandHandler<RegisterUserCommand, WriteResult> {
  constructor(
    private readonly repository: CommandRepository,
    private readonly emails: EmailReservations,
  ) {}

  async execute({ firstName, lastName, email, metadata }: RegisterUserCommand): Promise<WriteResult> {
    const user = User.register(randomUUID(), { firstName: firstName.trim(), lastName: lastName.trim(), email });
    // Refuse a taken email before appending anything; the reservation below is the authority.
    if (await this.emails.holderOf(user.email)) throw new EmailTakenError();
    const appended = await this.repository.save(user, metadata, {
      commitWith: (q, r) => this.emails.reserve(q, user.email, user.id, r.position),
    });
    return writeResultOf(appended);
  }
}
