const PREFIX = 'user-';

/** The stream of one user's events: `user-<id>`. */
export const userStreamId = (userId: string): string => `${PREFIX}${userId}`;

/**
 * The user a stream belongs to: the inverse of `userStreamId`. Throws for a
 * stream that is not a user's, so a projection stops on such an event (a
 * poison event an operator sees) instead of inventing a user.
 */
export function userIdOf(streamId: string): string {
  if (!isUserStream(streamId)) {
    throw new Error(`stream "${streamId}" is not a user stream (user-<id>)`);
  }
  return streamId.slice(PREFIX.length);
}

/** True for `user-<id>` streams. */
export function isUserStream(streamId: string): boolean {
  return streamId.startsWith(PREFIX) && streamId.length > PREFIX.length;
}
