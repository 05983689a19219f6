import type { MigrationInterface } from 'typeorm';
import type { Projection } from './projections/projection';
import type { EventDefinition } from './registry/event-definition';
import type { DecodingMode } from './registry/shape-codec';
import type { SnapshotDefinition } from './snapshots/snapshot-definition';

/** Options of `EventStoreModule.forRoot` / `createEventStore`. */
export interface EventStoreOptions {
  /** PostgreSQL connection URL (`postgres://user:pass@host:5432/db`). The store opens and owns its own pool. */
  url: string;
  /** Schema holding the log and its migrations table. Default `event_store`. Created if missing. */
  schema?: string;
  /** Every event type the application reads or writes, with its historic versions. */
  events: EventDefinition[];
  /** Connections in the pool the store opens. Default 10. */
  poolSize?: number;
  /** Run pending migrations at start-up (under an advisory lock, so replicas can start together). Default true. */
  runMigrations?: boolean;
  /**
   * The application's own TypeORM migrations for tables that must be written in the same
   * transaction as appends (e.g. a uniqueness reservation, an idempotency record). They run
   * with the store's, in the store's schema (read it with `schemaOf(q)`) and migrations
   * table, ordered by the timestamp in their class names: give them timestamps after the
   * store's (`17000000000xx`). Readiness (`EventStoreHandle.pendingMigrations`) covers them too.
   */
  migrations?: Array<new () => MigrationInterface>;
  /** PostgreSQL NOTIFY channel signalled after each committed append. Default `event_store_appended`. */
  notifyChannel?: string;
  /** Read models built from the log; each runs on exactly one instance at a time. */
  projections?: Projection[];
  /** Start projection runners with the module (default true). Off for instances that only write. */
  runProjections?: boolean;
  /**
   * Events per projection transaction (1..100000). Default 2000 (per-batch overhead
   * dominates below ~1000: 500 rebuilt at half the rate).
   */
  projectionBatchSize?: number;
  /** Longest wait between projection polls when no NOTIFY arrives, in ms (1..60000). Default 500. */
  projectionPollMs?: number;
  /**
   * Server-side `statement_timeout` of every pooled connection, in ms
   * (0..86400000; 0 leaves the server's setting). Default 30000. A statement
   * past it is cancelled and surfaces as `EventStoreTimeoutError`
   * (`EVENT_STORE.TIMEOUT`). Migrations and import run without it.
   * The client also bounds each pooled statement a little above it (by a tenth,
   * at least 1000 ms): a statement whose answer does not come by then (a frozen
   * link) drops its connection and fails with `EVENT_STORE.TIMEOUT` (kind
   * `no-answer`, outcome unknown). With 0 there is no client-side bound.
   */
  statementTimeoutMs?: number;
  /**
   * How long `close()` (and so application shutdown) waits for work in flight,
   * in ms (100..600000). Default 5000. Past it the connections still waiting on
   * the database are dropped, so a frozen link cannot hold shutdown up.
   */
  shutdownTimeoutMs?: number;
  /**
   * Server-side `idle_in_transaction_session_timeout` of every pooled
   * connection, in ms (0..86400000; 0 leaves the server's setting). Default
   * 10000. Bounds how long a transaction left open by a stuck caller holds its
   * stream locks and holds back global readers.
   */
  idleInTransactionTimeoutMs?: number;
  /**
   * How long a vanished or frozen holder of a projection's lock keeps it, in ms
   * (1000..600000). Default 10000. The lock connection pings at a quarter of
   * this and sets `idle_session_timeout`, `idle_in_transaction_session_timeout`,
   * `tcp_user_timeout` and keepalives from it, so PostgreSQL ends a silent
   * holder's session within it; a standby takes over at most two polls later.
   */
  projectionLockTimeoutMs?: number;
  /**
   * The longest a projection rebuild's switch waits for its table locks, in ms (10..60000),
   * before it rolls back and retries with backoff; reads of the live tables queue behind it at
   * most this long. Default 500.
   */
  projectionSwitchLockTimeoutMs?: number;
  /**
   * How stored events are validated and instantiated. `'compiled'` (default): each shape's
   * class-validator metadata is compiled once; `'class-validator'`: plainToInstance + validateSync
   * on every event (the reference path; same results, several times slower).
   */
  decoding?: DecodingMode;
  /**
   * Aggregate types loaded from snapshots (`defineSnapshot`), each with its own `every`. Others
   * (and those with `every: 0`) are always replayed in full and never look for a snapshot.
   */
  snapshots?: readonly SnapshotDefinition[];
  /**
   * Crypto-shredding of personal data. With it, every version of every event type must
   * classify each property (`personalData` in its definition); personal fields are encrypted
   * at append with their subject's (the stream id's) data key, AES-256-GCM, and decrypted on
   * read before upcasting. Data keys live in `personal_data_keys`, wrapped by `masterKey`
   * (32 bytes: a Buffer, 64 hex digits or base64), which every replica must share.
   */
  personalData?: { masterKey: Buffer | string };
}
