import type { Pool, PoolClient } from 'pg';
import type { DataSource, QueryRunner } from 'typeorm';
import { ForeignTransactionError } from '../errors';
import type { AppendResult, ExpectedVersion } from '../types';
import { appendEvents, AppendTarget } from './append';
import { appendBatch, BatchAppendResult, StreamAppend } from './append-batch';
import type { EventToWrite } from './append-request';
import { AppendNotifier } from './append-notifier';
import { exemptFromBound, type BoundedQueryConfig } from './bounded-client';
import { NOTIFY_BOUND_MS } from './pool-timeouts';
import { mayHoldSessionLock, translateTimeout } from './pg-errors';
import type { Queryable } from './queryable';
import { driverPool, pgQueryable, runnerQueryable } from './queryable-adapters';
import { inSpan } from '../tracing/event-trace';

const NOTIFY_SQL = 'SELECT pg_notify($1, $2)';
/** The span of every append (its trace context is what the appended events' metadata stores). */
const APPEND_SPAN = 'event_store.append';
const appendAttributes = (streamId: string, events: EventToWrite[]) => ({
  'event_store.stream_id': String(streamId),
  'event_store.events': Array.isArray(events) ? events.length : 0,
});

/** What the store knows about a transaction it opened. */
interface StoreTransaction {
  open: boolean;
  /** A failed append left this connection possibly holding the global lock: close it, never pool it. */
  doubt?: Error;
  /** The first append that failed: the transaction is aborted, so it must not be reported as committed. */
  failedAppend?: Error;
  /** Highest position appended, announced after COMMIT. */
  position: number;
}

/**
 * The store's writes and the connections they run on. The promise it keeps:
 * a connection on which an append failed in a way that might leave the
 * global append lock held (a cancel, a timeout, a broken connection) is
 * closed, never returned to the pool; and listeners hear about an append
 * only after it committed.
 */
export class WritePath {
  /** Keyed by the Queryable `inTransaction` hands out: only that one may `appendWithin`. */
  private readonly transactions = new WeakMap<Queryable, StoreTransaction>();
  private readonly notifier: AppendNotifier;

  constructor(
    private readonly dataSource: DataSource,
    private readonly target: AppendTarget,
  ) {
    // Bounded on its own, shorter than the pool's: a NOTIFY that hangs (a frozen link) frees its connection and the
    // notifications after it within NOTIFY_BOUND_MS; listeners poll, so a lost one only delays them.
    this.notifier = new AppendNotifier((position) =>
      this.pool().query({ text: NOTIFY_SQL, values: [target.channel, String(position)], boundMs: NOTIFY_BOUND_MS } as BoundedQueryConfig),
    );
  }

  appendToStream(streamId: string, events: EventToWrite[], expectedVersion: ExpectedVersion): Promise<AppendResult> {
    return inSpan(APPEND_SPAN, appendAttributes(streamId, events), async (span) => {
      const result = await this.pooled((q) => appendEvents(q, this.target, streamId, events, expectedVersion));
      if (result.written) this.notifier.appended(result.position);
      span.setAttribute('event_store.position', result.position);
      return result;
    });
  }

  appendToStreams(appends: StreamAppend[]): Promise<BatchAppendResult> {
    return inSpan(APPEND_SPAN, { 'event_store.streams': appends.length }, async (span) => {
      const result = await this.pooled((q) => appendBatch(q, this.target, appends));
      if (result.streams.some((s) => s.written)) this.notifier.appended(result.position);
      span.setAttribute('event_store.position', result.position);
      return result;
    });
  }

  appendWithin(q: Queryable, streamId: string, events: EventToWrite[], expected: ExpectedVersion): Promise<AppendResult> {
    return inSpan(APPEND_SPAN, appendAttributes(streamId, events), () => this.appendInTransaction(q, streamId, events, expected));
  }

  private async appendInTransaction(
    q: Queryable,
    streamId: string,
    events: EventToWrite[],
    expected: ExpectedVersion,
  ): Promise<AppendResult> {
    const tx = this.transactions.get(q);
    if (!tx?.open) throw new ForeignTransactionError();
    try {
      const result = await appendEvents(watched(q, tx), this.target, streamId, events, expected);
      if (result.written) tx.position = Math.max(tx.position, result.position);
      return result;
    } catch (error) {
      tx.failedAppend ??= asError(error);
      throw error;
    }
  }

  async inTransaction<T>(work: (q: Queryable) => Promise<T>): Promise<T> {
    const q = this.dataSource.createQueryRunner();
    await q.connect();
    const tx: StoreTransaction = { open: true, position: 0 };
    const session = runnerQueryable(q);
    this.transactions.set(session, tx);
    try {
      await q.startTransaction('READ COMMITTED');
      const result = await work(session);
      // COMMIT of an aborted transaction quietly rolls back: a swallowed append failure must not pass as success.
      if (tx.failedAppend !== undefined) throw tx.failedAppend;
      await q.commitTransaction();
      if (tx.position) this.notifier.appended(tx.position);
      return result;
    } catch (error) {
      if (q.isTransactionActive) await q.rollbackTransaction().catch((e: Error) => (tx.doubt ??= e));
      throw translateTimeout(error);
    } finally {
      tx.open = false;
      await releaseConnection(q, tx.doubt);
    }
  }

  /**
   * Runs `work` on a connection of its own, set up for bulk work: no statement
   * timeout and no client-side bound, no JIT (measured: compiling the import's checks cost more than
   * running them), sorts and temporary tables in memory. The
   * connection is closed afterwards, never pooled: its temporary tables and
   * settings end with it.
   */
  async bulkSession<T>(work: (client: PoolClient, target: AppendTarget, announce: (position: number) => void) => Promise<T>): Promise<T> {
    const client = await this.pool().connect();
    exemptFromBound(client);
    try {
      await client.query(`SET statement_timeout = 0; SET jit = off; SET work_mem = '64MB'; SET temp_buffers = '64MB'`);
      return await work(client, this.target, (position) => this.notifier.appended(position));
    } finally {
      client.release(true);
    }
  }

  /** Stops notifying; waits for a notification in flight so the pool can close. */
  close(): Promise<void> {
    return this.notifier.close();
  }

  /** Runs `work` on a pooled connection that is closed instead of returned if a statement left it in doubt. */
  private async pooled<T>(work: (q: Queryable) => Promise<T>): Promise<T> {
    const client: PoolClient = await this.pool().connect();
    const tx: StoreTransaction = { open: true, position: 0 };
    try {
      return await work(
        watched(
          pgQueryable((sql, params) => client.query(sql, params)),
          tx,
        ),
      );
    } finally {
      client.release(tx.doubt);
    }
  }

  private pool(): Pool {
    return driverPool(this.dataSource);
  }
}

/** `q` recording, on `tx`, a failure that may leave the session lock held. */
function watched(q: Queryable, tx: StoreTransaction): Queryable {
  const watch = async <R>(statement: Promise<R>): Promise<R> => {
    try {
      return await statement;
    } catch (error) {
      if (mayHoldSessionLock(error)) tx.doubt ??= asError(error);
      throw error;
    }
  };
  return {
    query: (sql, params) => watch(q.query(sql, params)),
    execute: (sql, params) => watch(q.execute(sql, params)),
  };
}

/** Returns the connection to the pool, or closes it when `doubt` is set (TypeORM's PostgreSQL runner supports both). */
async function releaseConnection(q: QueryRunner, doubt: Error | undefined): Promise<void> {
  const runner = q as QueryRunner & { releasePostgresConnection?: (err?: Error) => Promise<void> };
  if (doubt && runner.releasePostgresConnection) await runner.releasePostgresConnection(doubt);
  else await q.release();
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
