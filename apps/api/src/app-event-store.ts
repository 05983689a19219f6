import type { EventStoreOptions } from '@app/event-store';
import { pointsLedgerProjection } from './leaderboard/points-ledger.projection';
import { appMigrations } from './migrations';
import { userEvents } from './users/events';
import { userProfilesProjection } from './users/projections/user-profiles.projection';

export { USER_EVENT_TYPES, UserEventType } from './users/events/event-types';
export { userIdOf, userStreamId } from './users/user-stream';

/**
 * The app's event store, declared once: every event type it stores (each with
 * its historic versions and upcasters), every projection it runs, and the app's
 * own tables that commit with appends (email reservations, idempotency keys). The app
 * module, the CLIs and the benchmarks open their store from this, so a new event
 * type or projection is registered everywhere by adding it here. The stream-id
 * helpers and event-type constants are re-exported for code outside the users
 * feature; the feature's own files (events, aggregate, projections) import them
 * from their files, since importing this module would close a load cycle.
 */
export const appEventStore = {
  events: userEvents,
  projections: [userProfilesProjection, pointsLedgerProjection],
  migrations: appMigrations,
} satisfies Pick<EventStoreOptions, 'events' | 'projections' | 'migrations'>;
