/**
 * The stored names of the users feature's event types. Stored events carry
 * these strings, so a name never changes; a new shape is a new version.
 */
export const UserEventType = {
  Registered: 'UserRegistered',
  Renamed: 'UserRenamed',
  PointsAwarded: 'PointsAwarded',
  Erased: 'UserErased',
} as const;

/** Every user event type, e.g. for a projection that follows whole user streams. */
export const USER_EVENT_TYPES: readonly string[] = Object.values(UserEventType);
