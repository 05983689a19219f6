import { Inject } from '@nestjs/common';
import { CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { EVENT_STORE_HANDLE, type EventStoreHandle } from '@app/event-store';
import { CommandRepository } from '../../../common/command-repository';
import { EmailReservations } from '../../email-reservations';
import { User } from '../../user.aggregate';
import { userStreamId } from '../../user-stream';
import { UserNotFoundError } from '../../users.errors';
import { writeResultOf, type WriteResult } from '../write-result';
import { EraseUserCommand } from './erase-user.command';

/**
 * Erases a user by crypto-shredding, atomically: appends `UserErased`, and commits with it
 * the deletion of the person's data key (leaving a tombstone), the release of the email
 * reservation and the deletion of the user's snapshots. From its commit
 * on, every personal field of the user's events reads as its erased marker, on every instance
 * and in every replay; the projections then drop the person's data from the read models, and
 * their commit invalidates the cached views everywhere.
 */
@CommandHandler(EraseUserCommand)
export class EraseUserHandler implements ICommandHandler<EraseUserCommand, WriteResult> {
  constructor(
    private readonly repository: CommandRepository,
    private readonly emails: EmailReservations,
    @Inject(EVENT_STORE_HANDLE) private readonly es: EventStoreHandle,
  ) {}

  async execute(c: EraseUserCommand): Promise<WriteResult> {
    const personalData = this.es.personalData;
    if (!personalData) throw new Error('personal data is not enabled: the store has no master key');
    const streamId = userStreamId(c.userId);
    const erasedAt = new Date();
    const saved = await this.repository.update(
      () => new User(c.userId),
      streamId,
      (user) => user.erase(erasedAt),
      {
        metadata: { ...c.metadata, occurredAt: erasedAt.toISOString() },
        commitWith: async (q) => {
          await personalData.erase(q, streamId);
          await this.emails.release(q, c.userId);
          // Snapshots hold the names and email too; `notAfter: ['UserErased']` keeps writes in flight from bringing one back.
          await this.es.snapshots.deleteSnapshots(streamId, q);
        },
      },
    );
    if (!saved) throw new UserNotFoundError(c.userId);
    return writeResultOf(saved.result);
  }
}
