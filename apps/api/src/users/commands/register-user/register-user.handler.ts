import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { randomUUID } from 'node:crypto';
import { AggregateRepository } from '@app/event-store';
import { User } from '../../user.aggregate';
import type { WriteResult } from '../write-result';
import { RegisterUserCommand } from './register-user.command';

@CommandHandler(RegisterUserCommand)
export class RegisterUserHandler implements ICommandHandler<RegisterUserCommand, WriteResult> {
  constructor(private readonly repository: AggregateRepository) {}

  async execute({ firstName, lastName, email, metadata }: RegisterUserCommand): Promise<WriteResult> {
    const user = User.register(randomUUID(), { firstName: firstName.trim(), lastName: lastName.trim(), email });
    const { streamVersion, position } = await this.repository.save(user, metadata);
    return { id: user.id, version: streamVersion, position };
  }
}
