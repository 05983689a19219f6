import { DataSource } from 'typeorm';
import { EventStoreOptions } from './event-store.options';
import { eventStoreMigrations } from './postgres/migrations';
import { logLockKeys } from './postgres/lock-keys';
import { quoteIdent } from './postgres/migrations/schema-of';
import { BoundedClient, type ClientBound } from './postgres/bounded-client';
import { clientBoundMs, POOL_KEEPALIVE_DELAY_MS, poolTimeoutParameters, resolvePoolTimeouts } from './postgres/pool-timeouts';
import { resolveShutdownTimeout, closeWithin } from './postgres/bounded-close';
import { EventStore } from './postgres/postgres-event-store';
import { EventRegistry } from './registry/event-registry';
import { parseMasterKey } from './personal-data/field-cipher';
import { PersonalData } from './personal-data/personal-data';
import { EventStoreOptionsError } from './errors';
import { ProjectionsService } from './projections/projections.service';
import { resolveProjectionsOptions } from './projections/projections-options';
import { OutboxRelay } from './relay/outbox-relay';
import type { RelayOptions } from './relay/relay-options';
import type { Database } from './postgres/queryable';
import { autocommitQueryable, driverPool } from './postgres/queryable-adapters';
import { snapshotDefinitionsByClass } from './snapshots/snapshot-definition';
import { SnapshotStore } from './snapshots/snapshot-store';

/** Connections of the store's pool: open, idle among them, and requests waiting for one. */
export interface PoolStats {
  total: number;
  idle: number;
  waiting: number;
}

/** A ready event store plus what owns its resources. */
export interface EventStoreHandle {
  store: EventStore;
  registry: EventRegistry;
  /** The store's database (its own pool): autocommit statements and transactions, for the application's own tables. */
  db: Database;
  /** The schema name as configured (unquoted); `store.schema` is its quoted form, `projections.tableName()` qualifies tables. */
  schema: string;
  /** Runners and commands of the registered projections (not started). */
  projections: ProjectionsService;
  /** Snapshots of the aggregate types in `options.snapshots`; the repository loads through it. */
  snapshots: SnapshotStore;
  /** Crypto-shredding of personal fields (erase a subject, a cipher for snapshots); set when `personalData` was given. */
  personalData?: PersonalData;
  /** The store's connection pool right now: for metrics, and for tests that need it idle. */
  poolStats(): PoolStats;
  /** True while migrations are pending (the store's or the application's): readiness checks use it. */
  pendingMigrations(): Promise<boolean>;
  /**
   * An outbox relay over this log (not started): it publishes the given event types through
   * `options.publisher`. `close()` stops it before the pool closes.
   */
  createRelay(options: RelayOptions): OutboxRelay;
  /**
   * Stops the relays and the projections and closes the connection pool, waiting for work in
   * flight at most `shutdownTimeoutMs`; then it drops the connections left.
   */
  close(): Promise<void>;
}

/**
 * Opens a DataSource, runs the store's migrations and returns the
 * store. The registry is built first, so an inconsistent event configuration
 * fails here, before any connection is made. Usable without Nest (CLI tools).
 */
export async function createEventStore(options: EventStoreOptions): Promise<EventStoreHandle> {
  const registry = new EventRegistry(options.events, { decoding: options.decoding, requirePersonalData: !!options.personalData });
  const masterKey = options.personalData && masterKeyOf(options.personalData.masterKey);
  // Checked before any connection is opened, like the registry.
  const snapshotDefinitions = snapshotDefinitionsByClass(options.snapshots ?? []);
  const schema = options.schema ?? 'event_store';
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(schema)) throw new Error(`Invalid event store schema name "${schema}"`);
  if (!options.url) throw new Error('EventStore needs a PostgreSQL `url`');
  const timeouts = resolvePoolTimeouts(options);
  const shutdownMs = resolveShutdownTimeout(options.shutdownTimeoutMs);
  const bound: ClientBound = { ms: clientBoundMs(timeouts.statementTimeoutMs), clients: new Set() };
  const channel = options.notifyChannel ?? 'event_store_appended';
  const projectionOptions = resolveProjectionsOptions(
    {
      url: options.url,
      channel,
      batchSize: options.projectionBatchSize,
      pollMs: options.projectionPollMs,
      lockTimeoutMs: options.projectionLockTimeoutMs,
      switchLockTimeoutMs: options.projectionSwitchLockTimeoutMs,
    },
    {
      batchSize: 'projectionBatchSize',
      pollMs: 'projectionPollMs',
      lockTimeoutMs: 'projectionLockTimeoutMs',
      switchLockTimeoutMs: 'projectionSwitchLockTimeoutMs',
    },
  );
  const dataSource = new DataSource({
    ...connectionOptions(options),
    poolSize: options.poolSize ?? 10,
    applicationName: 'event-store',
    extra: {
      ...poolTimeoutParameters(timeouts),
      // Statements past the bound drop their connection instead of hanging (BoundedClient); keepalive notices a vanished peer.
      Client: BoundedClient,
      bound,
      keepAlive: true,
      keepAliveInitialDelayMillis: POOL_KEEPALIVE_DELAY_MS,
    },
  });
  if (options.runMigrations ?? true) await migrate(options);
  await dataSource.initialize();
  const locks = logLockKeys(schema);
  const pool = autocommitQueryable(dataSource);
  const personalData = masterKey && new PersonalData(pool, quoteIdent(schema), masterKey, registry);
  const store = new EventStore(
    dataSource,
    { schema: quoteIdent(schema), sequenceLock: locks.append, streamLockClass: locks.streamClass, channel },
    registry,
    personalData,
  );
  const db: Database = { ...pool, transaction: (work) => store.inTransaction(work) };
  const projections = new ProjectionsService(db, store, options.projections ?? [], projectionOptions, locks.projectionClass);
  const snapshots = new SnapshotStore(dataSource, store, locks.streamClass, snapshotDefinitions);
  let closing: Promise<void> | undefined;
  const relays: OutboxRelay[] = [];
  const relayContext = { db, store, projections: projectionOptions, lockClass: locks.projectionClass };
  return {
    store,
    registry,
    db,
    schema,
    pendingMigrations: () => dataSource.showMigrations(),
    poolStats: () => {
      const pool = driverPool(dataSource);
      return { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount };
    },
    projections,
    createRelay: (relayOptions) => {
      const relay = new OutboxRelay(relayContext, relayOptions);
      relays.push(relay);
      return relay;
    },
    snapshots,
    personalData,
    // Idempotent: Nest's shutdown hooks and a caller's own signal handler may both close it.
    close: () =>
      (closing ??= closeWithin(
        shutdownMs,
        async () => {
          await Promise.all(relays.map((relay) => relay.stop()));
          await projections.stop();
          await snapshots.close();
          await store.closeWrites();
          if (dataSource.isInitialized) await dataSource.destroy();
        },
        async () => {
          // Past the bound: whatever still waits on the database (a frozen link) gets its connection dropped.
          for (const client of bound.clients) client.drop();
          if (dataSource.isInitialized) await dataSource.destroy().catch(() => undefined);
        },
      )),
  };
}

/** The master key as a 32-byte buffer, from a buffer or 64 hex digits / base64 text. */
function masterKeyOf(key: Buffer | string): Buffer {
  if (Buffer.isBuffer(key) && key.length === 32) return key;
  try {
    return parseMasterKey(String(key));
  } catch (error) {
    throw new EventStoreOptionsError(`personalData.masterKey: ${(error as Error).message}`);
  }
}

/** What the store's pool and its migration connection share: the store's migrations, then the application's. */
function connectionOptions(options: EventStoreOptions) {
  return {
    type: 'postgres' as const,
    url: options.url,
    schema: options.schema ?? 'event_store',
    migrations: [...eventStoreMigrations, ...(options.migrations ?? [])],
    migrationsTableName: 'event_store_migrations',
    // Fail fast when the database is unreachable instead of queueing requests forever.
    connectTimeoutMS: 5000,
  };
}

/**
 * Runs pending migrations under a session advisory lock so several replicas
 * starting at once don't race. On its own short-lived connections, without
 * the pool's statement timeout: a migration may take long, and so may the
 * wait for another replica's migrations.
 */
async function migrate(options: EventStoreOptions): Promise<void> {
  const schema = options.schema ?? 'event_store';
  const dataSource = new DataSource({ ...connectionOptions(options), poolSize: 2, applicationName: 'event-store-migrations' });
  await dataSource.initialize();
  const q = dataSource.createQueryRunner();
  const [k1, k2] = logLockKeys(schema).migrations;
  try {
    await q.connect();
    await q.query('SELECT pg_advisory_lock($1, $2)', [k1, k2]);
    await q.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
    await dataSource.runMigrations({ transaction: 'each' });
  } finally {
    await q.query('SELECT pg_advisory_unlock($1, $2)', [k1, k2]).catch(() => undefined);
    await q.release();
    await dataSource.destroy();
  }
}
