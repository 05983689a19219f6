import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { AggregateRepository } from '@app/event-store';
import { WriteTransactions } from '../../../idempotency/write-transactions';
import { User } from '../../user.aggregate';
import { userStreamId } from '../../user-stream';
import { UserNotFoundError } from '../../users.errors';
import { toWriteResult, type WriteResult } from '../write-result';
import { RenameUserCommand } from './rename-user.command';

@CommandHandler(RenameUserCommand)
export class RenameUserHandler implements ICommandHandler<RenameUserCommand, WriteResult> {
  constructor(
    private readonly repository: AggregateRepository,
    private readonly writes: WriteTransactions,
  ) {}

  async execute(c: RenameUserCommand): Promise<WriteResult> {
    const toResult = toWriteResult(c.userId);
    const saved = await this.repository.update(
      () => new User(c.userId),
      userStreamId(c.userId),
      (user) => user.rename(c.firstName.trim(), c.lastName.trim()),
      { expectedVersion: c.expectedVersion, metadata: c.metadata, within: this.writes.hook(toResult) },
    );
    if (!saved) throw new UserNotFoundError(c.userId);
    return toResult(saved.result);
  }
}
