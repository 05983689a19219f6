import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { CommandRepository } from '../../../common/command-repository';
import { User } from '../../user.aggregate';
import { userStreamId } from '../../user-stream';
import { UserNotFoundError } from '../../users.errors';
import { writeResultOf, type WriteResult } from '../write-result';
import { RenameUserCommand } from './rename-user.command';

@CommandHandler(RenameUserCommand)
export class RenameUserHandler implements ICommandHandler<RenameUserCommand, WriteResult> {
  constructor(private readonly repository: CommandRepository) {}

  async execute(c: RenameUserCommand): Promise<WriteResult> {
    const saved = await this.repository.update(
      () => new User(c.userId),
      userStreamId(c.userId),
      (user) => user.rename(c.firstName.trim(), c.lastName.trim()),
      { expectedVersion: c.expectedVersion, metadata: c.metadata },
    );
    if (!saved) throw new UserNotFoundError(c.userId);
    return writeResultOf(saved.result);
  }
}
