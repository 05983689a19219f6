import type { DataSource, QueryRunner } from 'typeorm';
import { InvalidAppendError } from '../errors';
import type { EventRegistry } from '../registry/event-registry';
import type { AppendResult, ExpectedVersion, RecordedEvent, StoredEvent } from '../types';
import { appendEvents, AppendTarget, EventToWrite } from './append';
import type { Queryable } from './queryable';
import { EVENT_COLUMNS, EventRow, toStoredEvent } from './rows';

export interface ReadStreamOptions {
  /** First stream version to return (default 1). */
  fromVersion?: number;
  /** Rows fetched per round trip (default 500). */
  batchSize?: number;
}

export interface ReadAllOptions {
  /** First global position to return (inclusive, default 1). */
  fromPosition?: number;
  /** Rows fetched per round trip (default 1000). */
  batchSize?: number;
  /** Stop after this position (inclusive); default: whatever is committed when the read reaches it. */
  toPosition?: number;
}

const UNIQUE_VIOLATION = '23505';

/**
 * The event store over PostgreSQL: append with optimistic concurrency,
 * read one stream or the whole log in batches (constant memory), upcast on read.
 */
export class EventStore {
  constructor(
    private readonly dataSource: DataSource,
    private readonly target: AppendTarget,
    readonly registry: EventRegistry,
  ) {}

  /**
   * Appends events to a stream if it is at `expectedVersion`. Re-appending the
   * same event ids returns the original result and writes nothing.
   * @throws ConcurrencyConflictError, IdempotencyConflictError, InvalidAppendError
   */
  async appendToStream(
    streamId: string,
    events: EventToWrite[],
    options: { expectedVersion?: ExpectedVersion } = {},
  ): Promise<AppendResult> {
    const expectedVersion = options.expectedVersion ?? 'any';
    try {
      return await appendEvents(this.dataSource, this.target, streamId, events, expectedVersion);
    } catch (error) {
      const pg = error as { driverError?: { code?: string; constraint?: string } };
      // The same ids raced in on another stream between our check and insert: report it the way a
      // sequential retry would see it (the function, run again, raises the idempotency conflict).
      if (pg.driverError?.code === UNIQUE_VIOLATION && pg.driverError.constraint?.includes('event_id')) {
        return appendEvents(this.dataSource, this.target, streamId, events, expectedVersion);
      }
      throw error;
    }
  }

  /**
   * Appends inside a transaction opened with `inTransaction`, so callers can
   * write other rows atomically with the events (or roll everything back).
   */
  appendWithin(q: QueryRunner, streamId: string, events: EventToWrite[], expectedVersion: ExpectedVersion = 'any') {
    return appendEvents(q, this.target, streamId, events, expectedVersion);
  }

  /** Runs `work` in a transaction on one connection. */
  async inTransaction<T>(work: (q: QueryRunner) => Promise<T>): Promise<T> {
    const q = this.dataSource.createQueryRunner();
    await q.connect();
    try {
      await q.startTransaction('READ COMMITTED');
      const result = await work(q);
      await q.commitTransaction();
      return result;
    } catch (error) {
      if (q.isTransactionActive) await q.rollbackTransaction().catch(() => undefined);
      throw error;
    } finally {
      await q.release();
    }
  }

  /** Which of these event ids are already stored. */
  async existingEventIds(eventIds: string[]): Promise<Set<string>> {
    const rows: Array<{ event_id: string }> = await this.dataSource.query(
      `SELECT event_id FROM ${this.target.schema}.events WHERE event_id = ANY($1::uuid[])`,
      [eventIds],
    );
    return new Set(rows.map((r) => r.event_id));
  }

  /** Current version of a stream (0 when it has no events). */
  async streamVersion(streamId: string): Promise<number> {
    const [{ version }] = await this.dataSource.query(
      `SELECT coalesce(max(stream_version), 0)::int AS version FROM ${this.target.schema}.events WHERE stream_id = $1`,
      [streamId],
    );
    return version;
  }

  /** Highest position a global reader may see now (all lower positions are settled). 0 when empty. */
  async headPosition(q?: Queryable): Promise<number> {
    const [{ head }] = await (q ?? this.dataSource).query(
      `SELECT coalesce(max(position), 0) AS head FROM ${this.target.schema}.events
        WHERE transaction_id < pg_snapshot_xmin(pg_current_snapshot())`,
    );
    return Number(head);
  }

  /** One stream's events, upcast to their latest shape. Throws an `EventReadError` at the first unreadable one. */
  async *readStream<E = unknown>(streamId: string, options: ReadStreamOptions = {}): AsyncGenerator<RecordedEvent<E>> {
    for await (const stored of this.readStreamStored(streamId, options)) yield this.registry.upcast<E>(stored);
  }

  /** One stream's events exactly as stored. */
  async *readStreamStored(streamId: string, options: ReadStreamOptions = {}): AsyncGenerator<StoredEvent> {
    let from = options.fromVersion ?? 1;
    const batch = positiveInt(options.batchSize ?? 500, 'batchSize');
    for (;;) {
      const rows: EventRow[] = await this.dataSource.query(
        `SELECT ${EVENT_COLUMNS} FROM ${this.target.schema}.events
          WHERE stream_id = $1 AND stream_version >= $2 ORDER BY stream_version LIMIT $3`,
        [streamId, from, batch],
      );
      for (const row of rows) yield toStoredEvent(row);
      if (rows.length < batch) return;
      from = rows[rows.length - 1].stream_version + 1;
    }
  }

  /** The global log in position order, upcast. Never skips an event committed late (see ADR 0002). */
  async *readAll<E = unknown>(options: ReadAllOptions = {}): AsyncGenerator<RecordedEvent<E>> {
    for await (const rows of this.readAllBatches(options)) {
      for (const row of rows) yield this.registry.upcast<E>(row);
    }
  }

  /** The global log exactly as stored, in position order, in batches of `batchSize` rows. */
  async *readAllStored(options: ReadAllOptions = {}): AsyncGenerator<StoredEvent> {
    for await (const rows of this.readAllBatches(options)) yield* rows;
  }

  /**
   * The global log exactly as stored, one array per batch of `batchSize` rows (default 1000),
   * for callers that process whole batches (verify, export) without per-event async overhead.
   * The next batch is fetched while the caller works through this one, so the database and the
   * caller's decoding overlap; at most one query is in flight, and each batch still holds only
   * settled transactions, so fetching early never skips a late commit.
   */
  async *readAllBatches(options: ReadAllOptions = {}): AsyncGenerator<StoredEvent[]> {
    const to = options.toPosition ?? Number.MAX_SAFE_INTEGER;
    const batch = positiveInt(options.batchSize ?? 1000, 'batchSize');
    let next: Promise<StoredEvent[]> | undefined = this.readBatch(options.fromPosition ?? 1, to, batch);
    try {
      while (next) {
        const rows: StoredEvent[] = await next;
        next = rows.length === batch ? this.readBatch(rows[rows.length - 1].position + 1, to, batch) : undefined;
        if (rows.length) yield rows;
      }
    } finally {
      // The caller stopped early: nobody awaits the prefetch, so its failure must not go unhandled.
      next?.catch(() => undefined);
    }
  }

  /**
   * One batch of the global log: rows in [from, to], only from transactions
   * every reader can see, optionally only of the given types.
   */
  async readBatch(from: number, to: number, limit: number, q?: Queryable, types?: readonly string[]): Promise<StoredEvent[]> {
    const rows: EventRow[] = await (q ?? this.dataSource).query(
      `SELECT ${EVENT_COLUMNS} FROM ${this.target.schema}.events
        WHERE position >= $1 AND position <= $2
          AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
          ${types ? 'AND type = ANY($4::text[])' : ''}
        ORDER BY position LIMIT $3`,
      types ? [from, to, limit, types] : [from, to, limit],
    );
    return rows.map(toStoredEvent);
  }

  /** Quoted schema of the log; projections keep their tables beside it. */
  get schema(): string {
    return this.target.schema;
  }
}

function positiveInt(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) throw new InvalidAppendError(`${name} must be a positive integer`);
  return value;
}
