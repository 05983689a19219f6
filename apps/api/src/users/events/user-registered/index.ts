import { defineEvent } from '@app/event-store';
import { UserEventType } from '../event-types';
import { UserRegisteredV1 } from './user-registered.v1';
import { UserRegistered, upcastUserRegisteredV1 } from './user-registered.v2';

export { UserRegistered } from './user-registered.v2';

/** Stored as "UserRegistered"; current schema v2. */
export const userRegisteredEvent = defineEvent({
  type: UserEventType.Registered,
  version: 2,
  eventClass: UserRegistered,
  personalData: { firstName: 'text', lastName: 'text', email: 'email' },
  history: [{ version: 1, shape: UserRegisteredV1, upcast: upcastUserRegisteredV1, personalData: { fullName: 'text', email: 'email' } }],
});
