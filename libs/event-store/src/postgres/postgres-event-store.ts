import type { PoolClient } from 'pg';
import type { DataSource } from 'typeorm';
import { EventReadError } from '../errors';
import type { PersonalData } from '../personal-data/personal-data';
import type { EventRegistry } from '../registry/event-registry';
import type { AppendResult, ExpectedVersion, RecordedEvent, StoredEvent } from '../types';
import type { AppendTarget, EventToWrite } from './append';
import type { BatchAppendResult, StreamAppend } from './append-batch';
import { WritePath } from './write-path';
import type { Queryable } from './queryable';
import { autocommitQueryable } from './queryable-adapters';
import { EVENT_COLUMNS, EventRow, toStoredEvent } from './rows';
import { positiveInt, type ReadAllOptions, type ReadStreamOptions } from './read-options';

/**
 * The event store over PostgreSQL: append with optimistic concurrency,
 * read one stream or the whole log in batches (constant memory), upcast on read.
 */
export class EventStore {
  private readonly writes: WritePath;
  /** Reads in autocommit, each on a pooled connection for its duration. */
  private readonly pool: Queryable;

  constructor(
    dataSource: DataSource,
    private readonly target: AppendTarget,
    readonly registry: EventRegistry,
    /** Crypto-shredding of personal fields; undefined when the store has no master key (fields stay as given). */
    readonly personalData?: PersonalData,
  ) {
    this.writes = new WritePath(dataSource, target);
    this.pool = autocommitQueryable(dataSource);
  }

  /**
   * Appends events to a stream if it is at `expectedVersion` (default `'any'`),
   * as one autocommitted statement. Re-appending the same event ids returns the
   * original result (`written: false`) and writes nothing.
   * @throws ConcurrencyConflictError, IdempotencyConflictError, InvalidAppendError, EventStoreTimeoutError
   */
  async appendToStream(
    streamId: string,
    events: EventToWrite[],
    options: { expectedVersion?: ExpectedVersion } = {},
  ): Promise<AppendResult> {
    return this.writes.appendToStream(streamId, await this.sealed(streamId, events), options.expectedVersion ?? 'any');
  }

  /**
   * Appends to one or many streams in one round trip, atomically: each stream
   * at its own `expectedVersion`, all written or none, in one transaction. Up to
   * `MAX_EVENTS_PER_BATCH` (10000) events in `MAX_STREAMS_PER_BATCH` (50)
   * streams: the transaction holds one lock per stream until COMMIT, and 50
   * keeps a batch within one connection's share of PostgreSQL's lock table, so
   * concurrent batches cannot exhaust it. A stream appears once. A stream whose
   * events are all stored already is a no-op (`written: false`), so a retried batch is idempotent.
   * @throws ConcurrencyConflictError / IdempotencyConflictError naming the stream, BatchTooLargeError over the bounds,
   *   InvalidAppendError, EventStoreTimeoutError
   */
  async appendToStreams(appends: StreamAppend[]): Promise<BatchAppendResult> {
    return this.writes.appendToStreams(
      this.personalData && Array.isArray(appends) ? await this.personalData.sealAppends(appends) : appends,
    );
  }

  /**
   * Appends inside a transaction opened with `inTransaction`, so the caller
   * can write its own rows atomically with the events (or roll everything
   * back). Any number of appends, before or after any other writes of the
   * transaction, keeps the global order (ADR 0002: the append records the
   * transaction's horizon, not only its own id). `q` must be the Queryable
   * `inTransaction` passed, with its transaction still open, else
   * `ForeignTransactionError`. A failed append aborts the transaction:
   * `inTransaction` then rolls back and rethrows it, even if `work` caught it.
   * @throws ConcurrencyConflictError, IdempotencyConflictError, InvalidAppendError, ForeignTransactionError, EventStoreTimeoutError
   */
  async appendWithin(
    q: Queryable,
    streamId: string,
    events: EventToWrite[],
    expectedVersion: ExpectedVersion = 'any',
  ): Promise<AppendResult> {
    return this.writes.appendWithin(q, streamId, await this.sealed(streamId, events), expectedVersion);
  }

  /** Rows with personal fields decrypted (erased: markers) for `registry.upcast`; an unreadable row becomes its error. */
  reveal(rows: StoredEvent[]): Promise<Array<StoredEvent | EventReadError>> | StoredEvent[] {
    return this.personalData ? this.personalData.reveal(rows) : rows;
  }

  /** `registry.upcast` of a revealed row; throws the row's error in its place. */
  upcastRevealed<E = unknown>(row: StoredEvent | EventReadError): RecordedEvent<E> {
    if (row instanceof EventReadError) throw row;
    return this.registry.upcast<E>(row);
  }

  private async sealed(streamId: string, events: EventToWrite[]): Promise<EventToWrite[]> {
    return this.personalData && Array.isArray(events) ? (await this.personalData.sealEvents([{ streamId, events }]))[0] : events;
  }

  /**
   * Runs `work` in a READ COMMITTED transaction on one pooled connection;
   * commits if it resolves, rolls back if it throws. Keep it short: an open
   * transaction holds back global readers (ADR 0002), and the pool's
   * `idleInTransactionTimeoutMs` ends one that waits too long between statements.
   */
  inTransaction<T>(work: (q: Queryable) => Promise<T>): Promise<T> {
    return this.writes.inTransaction(work);
  }

  /**
   * Lends a dedicated connection without the statement timeout to bulk work
   * (`importLines`); it is closed afterwards. `announce` tells listeners a
   * position committed. Internal: applications call `importLines`.
   */
  withBulkSession<T>(work: (client: PoolClient, target: AppendTarget, announce: (position: number) => void) => Promise<T>): Promise<T> {
    return this.writes.bulkSession(work);
  }

  /** Stops announcing appends and waits for an announcement in flight; `close()` of the handle calls it. */
  closeWrites(): Promise<void> {
    return this.writes.close();
  }

  /** Which of these event ids are already stored. */
  async existingEventIds(eventIds: string[]): Promise<Set<string>> {
    const rows = await this.pool.query<{ event_id: string }>(
      `SELECT event_id FROM ${this.target.schema}.events WHERE event_id = ANY($1::uuid[])`,
      [eventIds],
    );
    return new Set(rows.map((r) => r.event_id));
  }

  /** Current version of a stream (0 when it has no events). */
  async streamVersion(streamId: string): Promise<number> {
    const [{ version }] = await this.pool.query<{ version: number }>(
      `SELECT coalesce(max(stream_version), 0)::int AS version FROM ${this.target.schema}.events WHERE stream_id = $1`,
      [streamId],
    );
    return version;
  }

  /** Highest position a global reader may see now (all lower positions are settled). 0 when empty. */
  async headPosition(q?: Queryable): Promise<number> {
    const [{ head }] = await (q ?? this.pool).query<{ head: string }>(
      `SELECT coalesce(max(position), 0) AS head FROM ${this.target.schema}.events
        WHERE transaction_id < pg_snapshot_xmin(pg_current_snapshot())`,
    );
    return Number(head);
  }

  /** One stream's events, upcast to their latest shape. Throws an `EventReadError` at the first unreadable one. */
  async *readStream<E = unknown>(streamId: string, options: ReadStreamOptions = {}): AsyncGenerator<RecordedEvent<E>> {
    for await (const rows of this.readStreamBatches(streamId, options)) {
      for (const row of await this.reveal(rows)) yield this.upcastRevealed<E>(row);
    }
  }

  /** One stream's events exactly as stored. */
  async *readStreamStored(streamId: string, options: ReadStreamOptions = {}): AsyncGenerator<StoredEvent> {
    for await (const rows of this.readStreamBatches(streamId, options)) yield* rows;
  }

  private async *readStreamBatches(streamId: string, options: ReadStreamOptions): AsyncGenerator<StoredEvent[]> {
    let from = options.fromVersion ?? 1;
    const batch = positiveInt(options.batchSize ?? 500, 'batchSize');
    for (;;) {
      const rows = await this.pool.query<EventRow>(
        `SELECT ${EVENT_COLUMNS} FROM ${this.target.schema}.events
          WHERE stream_id = $1 AND stream_version >= $2 ORDER BY stream_version LIMIT $3`,
        [streamId, from, batch],
      );
      yield rows.map(toStoredEvent);
      if (rows.length < batch) return;
      from = rows[rows.length - 1].stream_version + 1;
    }
  }

  /** The global log in position order, upcast. Never skips an event committed late (see ADR 0002). */
  async *readAll<E = unknown>(options: ReadAllOptions = {}): AsyncGenerator<RecordedEvent<E>> {
    for await (const rows of this.readAllBatches(options)) {
      for (const row of await this.reveal(rows)) yield this.upcastRevealed<E>(row);
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
    const rows = await (q ?? this.pool).query<EventRow>(
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
