import { DataSource } from 'typeorm';
import { EventStoreOptions } from './event-store.options';
import { eventStoreMigrations } from './postgres/migrations';
import { quoteIdent } from './postgres/migrations/schema-of';
import { EventStore } from './postgres/postgres-event-store';
import { EventRegistry } from './registry/event-registry';
import { ProjectionsService } from './projections/projections.service';
import { resolveProjectionsOptions } from './projections/projections-options';

/** A ready event store plus what owns its resources. */
export interface EventStoreHandle {
  store: EventStore;
  registry: EventRegistry;
  dataSource: DataSource;
  /** The schema name as configured (unquoted); `store.schema` is its quoted form, `projections.tableName()` qualifies tables. */
  schema: string;
  /** Runners and commands of the registered projections (not started). */
  projections: ProjectionsService;
  /** Closes the connection pool. */
  close(): Promise<void>;
}

/**
 * Opens a DataSource, runs the store's migrations and returns the
 * store. The registry is built first, so an inconsistent event configuration
 * fails here, before any connection is made. Usable without Nest (CLI tools).
 */
export async function createEventStore(options: EventStoreOptions): Promise<EventStoreHandle> {
  const registry = new EventRegistry(options.events, { decoding: options.decoding });
  const schema = options.schema ?? 'event_store';
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(schema)) throw new Error(`Invalid event store schema name "${schema}"`);
  if (!options.url) throw new Error('EventStore needs a PostgreSQL `url`');
  const channel = options.notifyChannel ?? 'event_store_appended';
  const projectionOptions = resolveProjectionsOptions(
    {
      url: options.url, channel, batchSize: options.projectionBatchSize, pollMs: options.projectionPollMs,
      lockTimeoutMs: options.projectionLockTimeoutMs,
    },
    { batchSize: 'projectionBatchSize', pollMs: 'projectionPollMs', lockTimeoutMs: 'projectionLockTimeoutMs' },
  );
  const dataSource = new DataSource({
    type: 'postgres',
    url: options.url,
    schema,
    poolSize: options.poolSize ?? 10,
    migrations: [...eventStoreMigrations, ...(options.migrations ?? [])],
    migrationsTableName: 'event_store_migrations',
    applicationName: 'event-store',
    // Fail fast when the database is unreachable instead of queueing requests forever.
    connectTimeoutMS: 5000,
  });
  await dataSource.initialize();
  try {
    if (options.runMigrations ?? true) await migrate(dataSource, schema);
  } catch (error) {
    await dataSource.destroy();
    throw error;
  }
  const [lockClass] = lockKeys(schema);
  const store = new EventStore(
    dataSource,
    { schema: quoteIdent(schema), sequenceLock: lockKeys(schema), streamLockClass: lockClass ^ 0x5eed, channel },
    registry,
  );
  const projections = new ProjectionsService(dataSource, store, options.projections ?? [], projectionOptions, lockClass ^ 0x9e0);
  let closing: Promise<void> | undefined;
  return {
    store,
    registry,
    dataSource,
    schema,
    projections,
    // Idempotent: Nest's shutdown hooks and a caller's own signal handler may both close it.
    close: () => (closing ??= (async () => {
      await projections.stop();
      if (dataSource.isInitialized) await dataSource.destroy();
    })()),
  };
}

/** Runs pending migrations under a session advisory lock so several replicas starting at once don't race. */
async function migrate(dataSource: DataSource, schema: string): Promise<void> {
  const q = dataSource.createQueryRunner();
  await q.connect();
  const [k1] = lockKeys(schema);
  try {
    await q.query('SELECT pg_advisory_lock($1, 0)', [k1]);
    await q.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
    await dataSource.runMigrations({ transaction: 'each' });
  } finally {
    await q.query('SELECT pg_advisory_unlock($1, 0)', [k1]).catch(() => undefined);
    await q.release();
  }
}

/** True when migrations are pending; readiness checks use it. */
export async function hasPendingMigrations(dataSource: DataSource): Promise<boolean> {
  return dataSource.showMigrations();
}

/** Stable advisory-lock keys for one log; the second key distinguishes the append lock from the migration lock. */
function lockKeys(schema: string): [number, number] {
  let h = 0x811c9dc5;
  for (const ch of `event-store:${schema}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193);
  return [h | 0, 1];
}
