import { EmailReservations1710000000001 } from './1710000000001-email-reservations';
import { IdempotencyKeys1710000000002 } from './1710000000002-idempotency-keys';
import { EmailFold1710000000003 } from './1710000000003-email-fold';
import { EmailReservationHolders1710000000012 } from './1710000000012-email-reservation-holders';

/**
 * The app's own tables, written in the same transactions as appends, live in the event
 * store's schema; the store runs these migrations with its own (EventStoreOptions.migrations).
 * Add new ones at the end with a later timestamp; never edit a released one.
 */
export const appMigrations = [
  EmailReservations1710000000001,
  IdempotencyKeys1710000000002,
  EmailFold1710000000003,
  EmailReservationHolders1710000000012,
];
