import { defineSnapshot, personalSnapshotCodec, type SnapshotCodec, type SnapshotDefinition } from '@app/event-store';
import { User } from './user.aggregate';

/**
 * The User's snapshot shape, version 1. Bump `USER_SNAPSHOT_VERSION` (and give the new shape
 * its own interface) whenever `User` gains or changes state: loads then ignore the old
 * snapshots and replay in full until a snapshot of the new version is taken.
 */
export interface UserSnapshotV1 {
  firstName: string;
  lastName: string;
  email: string;
  points: number;
}

/** Version of `UserSnapshotV1`, stored with every User snapshot. */
export const USER_SNAPSHOT_VERSION = 1;

/**
 * The erasure event (issue 20): no User snapshot is ever stored after it, and the erasure
 * deletes the user's snapshots in its own transaction (`SnapshotStore.deleteSnapshots`).
 */
const USER_SNAPSHOT_NOT_AFTER = ['UserErased'];

/** The personal fields of `UserSnapshotV1`, encrypted with the person's key as in the events. */
const USER_SNAPSHOT_PERSONAL_FIELDS = { firstName: 'text', lastName: 'text', email: 'email' } as const;

/**
 * How a User is snapshotted, every `every` events (0 = never; the app passes `SNAPSHOT_EVERY`).
 * By default names and email are encrypted with the person's data key (crypto-shredding on),
 * like the events' own fields; `codec` replaces that.
 */
export function userSnapshot(options: { every: number; codec?: SnapshotCodec<UserSnapshotV1> }): SnapshotDefinition<User, UserSnapshotV1> {
  return defineSnapshot<User, UserSnapshotV1>({
    aggregate: User,
    name: 'User',
    version: USER_SNAPSHOT_VERSION,
    every: options.every,
    take: (user) => ({ firstName: user.firstName, lastName: user.lastName, email: user.email, points: user.points }),
    restore: (user, state) => {
      assertUserSnapshotV1(state);
      user.firstName = state.firstName;
      user.lastName = state.lastName;
      user.email = state.email;
      user.points = state.points;
    },
    notAfter: USER_SNAPSHOT_NOT_AFTER,
    codec: options.codec ?? personalSnapshotCodec<UserSnapshotV1>(USER_SNAPSHOT_PERSONAL_FIELDS),
  });
}

/** A state of another shape (a bug, a codec that went wrong) fails the restore, so the load replays in full. */
function assertUserSnapshotV1(state: UserSnapshotV1): void {
  const s = state as unknown as Record<string, unknown>;
  const strings = ['firstName', 'lastName', 'email'].every((k) => typeof s[k] === 'string');
  if (!strings || !Number.isSafeInteger(s.points) || (s.points as number) < 0) {
    throw new Error('User snapshot does not have the shape of version 1');
  }
}
