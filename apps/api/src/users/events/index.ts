import { pointsAwardedEvent } from './points-awarded';
import { userRegisteredEvent } from './user-registered';
import { userErasedEvent } from './user-erased.event';
import { userRenamedEvent } from './user-renamed.event';

export { UserRegistered } from './user-registered';
export { PointsAwarded, MAX_POINTS_PER_AWARD } from './points-awarded';
export { UserRenamed } from './user-renamed.event';
export { UserErased } from './user-erased.event';

/** Every event type of the users feature, registered with the event store. */
export const userEvents = [userRegisteredEvent, userRenamedEvent, pointsAwardedEvent, userErasedEvent];
