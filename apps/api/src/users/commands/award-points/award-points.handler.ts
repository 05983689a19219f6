import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { CommandRepository } from '../../../common/command-repository';
import { User } from '../../user.aggregate';
import { userStreamId } from '../../user-stream';
import { UserNotFoundError } from '../../users.errors';
import { writeResultOf, type WriteResult } from '../write-result';
import { AwardPointsCommand } from './award-points.command';

/** Conflict retries for awards; each retry reloads the stream, so a lost race costs one more read. */
const AWARD_ATTEMPTS = 8;

@CommandHandler(AwardPointsCommand)
export class AwardPointsHandler implements ICommandHandler<AwardPointsCommand, WriteResult> {
  constructor(private readonly repository: CommandRepository) {}

  async execute(c: AwardPointsCommand): Promise<WriteResult> {
    const awardedAt = new Date();
    const saved = await this.repository.update(
      () => new User(c.userId),
      userStreamId(c.userId),
      (user) => user.awardPoints(c.points, c.reason.trim(), awardedAt),
      { attempts: AWARD_ATTEMPTS, metadata: { ...c.metadata, occurredAt: awardedAt.toISOString() } },
    );
    if (!saved) throw new UserNotFoundError(c.userId);
    return writeResultOf(saved.result);
  }
}
