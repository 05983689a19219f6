import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { AggregateRepository } from '@app/event-store';
import { User } from '../../user.aggregate';
import { userStreamId } from '../../user-stream';
import { UserNotFoundError } from '../../users.errors';
import type { WriteResult } from '../write-result';
import { RenameUserCommand } from './rename-user.command';

@CommandHandler(RenameUserCommand)
export class RenameUserHandler implements ICommandHandler<RenameUserCommand, WriteResult> {
  constructor(private readonly repository: AggregateRepository) {}

  async execute(c: RenameUserCommand): Promise<WriteResult> {
    const saved = await this.repository.update(
      () => new User(c.userId),
      userStreamId(c.userId),
      (user) => user.rename(c.firstName.trim(), c.lastName.trim()),
      { expectedVersion: c.expectedVersion, metadata: c.metadata },
    );
    if (!saved) throw new UserNotFoundError(c.userId);
    return { id: c.userId, version: saved.result.streamVersion, position: saved.result.position };
  }
}
