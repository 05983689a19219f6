import { randomUUID } from 'node:crypto';
import { ConcurrencyConflictError, IdempotencyConflictError, InvalidAppendError } from '../errors';
import type { AppendResult, EventToAppend, ExpectedVersion } from '../types';
import type { Queryable } from './queryable';

/** An event as the low-level append takes it; `recordedAt` is only set by import to keep history's timestamps. */
export interface EventToWrite extends EventToAppend {
  recordedAt?: string;
}

export interface AppendTarget {
  /** Quoted schema name. */
  schema: string;
  /** Advisory-lock key pair guarding position assignment for this log. */
  sequenceLock: [number, number];
  /** First key of the per-stream transaction lock (the second is a hash of the stream id). */
  streamLockClass: number;
  /** NOTIFY channel told about each committed append. */
  channel: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const MAX_EVENTS_PER_APPEND = 1000;
export const MAX_STREAM_ID_LENGTH = 200;

/**
 * Appends through the `append_events` function, in the caller's transaction
 * if `q` has one open, else as a single autocommitted statement.
 *
 * Global-order guarantee: inside the function the transaction's xid is
 * assigned and its positions are drawn in one short critical section (a
 * session advisory lock released before COMMIT), so xid order equals position
 * order across appends. Readers then only return rows whose xid is below the
 * snapshot's xmin (docs/adr/0002-global-order.md); commits stay concurrent.
 */
export async function appendEvents(
  q: Queryable,
  target: AppendTarget,
  streamId: string,
  events: EventToWrite[],
  expectedVersion: ExpectedVersion,
): Promise<AppendResult> {
  checkRequest(streamId, events, expectedVersion);
  const ids = events.map((e) => (e.eventId ??= randomUUID()));
  const occurredAt = new Date().toISOString();
  try {
    const [row] = await q.query(
      `SELECT out_position, out_stream_version, out_written
         FROM ${target.schema}.append_events($1, $2, $3::uuid[], $4::text[], $5::int[], $6::jsonb[], $7::jsonb[],
                                            $8::timestamptz[], $9, $10, $11, $12)`,
      [
        streamId,
        String(expectedVersion),
        ids,
        events.map((e) => e.type),
        events.map((e) => e.schemaVersion),
        events.map((e) => JSON.stringify(e.data)),
        events.map((e) => JSON.stringify({ occurredAt, ...e.metadata })),
        events.map((e) => e.recordedAt ?? null),
        target.streamLockClass,
        ...target.sequenceLock,
        target.channel,
      ],
    );
    return { position: Number(row.out_position), streamVersion: row.out_stream_version, written: row.out_written };
  } catch (error) {
    const pg = error as { driverError?: { code?: string; detail?: string }; code?: string; detail?: string };
    const code = pg.driverError?.code ?? pg.code;
    if (code === 'ES001') {
      throw new ConcurrencyConflictError(streamId, expectedVersion, Number(pg.driverError?.detail ?? pg.detail), { cause: error });
    }
    if (code === 'ES002') throw new IdempotencyConflictError(streamId, ids);
    throw error;
  }
}

function checkRequest(streamId: string, events: EventToWrite[], expected: ExpectedVersion): void {
  if (typeof streamId !== 'string' || streamId.length === 0 || streamId.length > MAX_STREAM_ID_LENGTH) {
    throw new InvalidAppendError(`streamId must be a string of 1..${MAX_STREAM_ID_LENGTH} characters`);
  }
  if (!Array.isArray(events) || events.length === 0 || events.length > MAX_EVENTS_PER_APPEND) {
    throw new InvalidAppendError(`an append takes 1..${MAX_EVENTS_PER_APPEND} events`);
  }
  const ids = new Set<string>();
  for (const e of events) {
    if (e.eventId !== undefined && (typeof e.eventId !== 'string' || !UUID.test(e.eventId))) {
      throw new InvalidAppendError(`eventId "${e.eventId}" is not a UUID`);
    }
    if (e.eventId && ids.has(e.eventId)) throw new InvalidAppendError(`eventId ${e.eventId} appears twice`);
    if (e.eventId) ids.add(e.eventId);
    if (!e.type || !Number.isInteger(e.schemaVersion) || e.schemaVersion < 1) {
      throw new InvalidAppendError('every event needs a type and an integer schemaVersion >= 1');
    }
    if (e.data === null || typeof e.data !== 'object' || Array.isArray(e.data)) {
      throw new InvalidAppendError(`${e.type}: data must be a JSON object`);
    }
  }
  const ok = ['any', 'no_stream', 'stream_exists'].includes(expected as string) ||
    (Number.isInteger(expected) && (expected as number) >= 0);
  if (!ok) throw new InvalidAppendError(`expectedVersion ${String(expected)} is not valid`);
}
