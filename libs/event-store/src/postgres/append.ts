import { ConcurrencyConflictError, IdempotencyConflictError, InvalidAppendError } from '../errors';
import type { AppendResult, ExpectedVersion } from '../types';
import { activeTraceMetadata } from '../tracing/event-trace';
import { addColumns, checkEvents, checkStream, emptyColumns, EventToWrite, MAX_EVENTS_PER_APPEND } from './append-request';
import { PgErrorFields, pgFields, translateTimeout } from './pg-errors';
import type { Queryable } from './queryable';

export { MAX_EVENTS_PER_APPEND, MAX_STREAM_ID_LENGTH } from './append-request';
export type { EventToWrite } from './append-request';

export interface AppendTarget {
  /** Quoted schema name. */
  schema: string;
  /** Advisory-lock key pair of the global append lock of this log. */
  sequenceLock: [number, number];
  /** First key of the per-stream transaction lock (the second is a hash of the stream id). */
  streamLockClass: number;
  /** NOTIFY channel told about each committed append (by the client, after commit). */
  channel: string;
}

/** `out_position` is a bigint: `pg` hands it over as a string. */
type AppendRow = { out_position: string; out_stream_version: number; out_written: boolean };

const APPEND_SQL = (schema: string) => `SELECT out_position, out_stream_version, out_written
  FROM ${schema}.append_events($1, $2, $3::uuid[], $4::text[], $5::int[], $6::jsonb[], $7::jsonb[], $8::timestamptz[],
                               $9, $10, $11, NULL)`;

/**
 * Appends through the `append_events` function on `q`: in its open
 * transaction if it has one, else as one autocommitted statement.
 *
 * Global order (docs/adr/0002-global-order.md): positions and the
 * transaction's horizon are drawn in one short critical section under the
 * global lock, released before COMMIT, so commits stay concurrent and readers
 * never pass a position that can still commit.
 */
export async function appendEvents(
  q: Queryable,
  target: AppendTarget,
  streamId: string,
  events: EventToWrite[],
  expectedVersion: ExpectedVersion,
): Promise<AppendResult> {
  checkStream(streamId, expectedVersion);
  if (!Array.isArray(events) || events.length === 0 || events.length > MAX_EVENTS_PER_APPEND) {
    throw new InvalidAppendError(`an append takes 1..${MAX_EVENTS_PER_APPEND} events`);
  }
  checkEvents(events, new Set());
  const c = emptyColumns();
  addColumns(c, events, new Date().toISOString(), activeTraceMetadata());
  try {
    const [row] = await q.query<AppendRow>(APPEND_SQL(target.schema), [
      streamId,
      String(expectedVersion),
      c.ids,
      c.types,
      c.versions,
      c.data,
      c.metadata,
      c.recorded,
      target.streamLockClass,
      ...target.sequenceLock,
    ]);
    return { position: Number(row.out_position), streamVersion: row.out_stream_version, written: row.out_written };
  } catch (error) {
    throw appendError(error, () => ({ streamId, expectedVersion, eventIds: c.ids }));
  }
}

/** Which stream of a request a database error is about, and what that stream asked for. */
export type LocateStream = (pg: PgErrorFields) => { streamId: string; expectedVersion: ExpectedVersion; eventIds: string[] };

/**
 * The typed error for a failed append: ES001 -> `ConcurrencyConflictError`,
 * ES002 or a unique violation on the event id -> `IdempotencyConflictError`, one on
 * (stream, version) -> `ConcurrencyConflictError` (another writer took the
 * version after this transaction's snapshot, e.g. under REPEATABLE READ), a
 * timeout -> `EventStoreTimeoutError`; anything else unchanged.
 */
export function appendError(error: unknown, locate: LocateStream): unknown {
  const pg = pgFields(error);
  if (pg.code === 'ES001') {
    const { streamId, expectedVersion } = locate(pg);
    return new ConcurrencyConflictError(streamId, expectedVersion, Number(pg.detail), { cause: error });
  }
  if (pg.code === 'ES002' || (pg.code === '23505' && pg.constraint === 'events_event_id_key')) {
    // An id racing in on another stream hits the unique key: the same misuse as ES002.
    const { streamId, eventIds } = locate(pg);
    return new IdempotencyConflictError(streamId, eventIds);
  }
  const taken = pg.code === '23505' && pg.constraint === 'events_stream_version_key' && VERSION_TAKEN.exec(pg.detail ?? '');
  if (taken) {
    const { streamId, expectedVersion } = locate(pg);
    return new ConcurrencyConflictError(streamId, expectedVersion, Number(taken[2]), { cause: error });
  }
  return translateTimeout(error);
}

/** `Key (stream_id, stream_version)=(user-1, 3) already exists.` -> the stream id and the version that was taken. */
export const VERSION_TAKEN = /=\((.*), (\d+)\) already exists/;
