import { randomUUID } from 'node:crypto';
import type { QueryRunner } from 'typeorm';
import { ConcurrencyConflictError, IdempotencyConflictError, InvalidAppendError } from '../errors';
import type { AppendResult, EventToAppend, ExpectedVersion } from '../types';

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
 * Appends inside the caller's open transaction and returns the result
 * (`written: false` when the append turned out to be an idempotent retry).
 *
 * Global-order guarantee: the transaction's xid is assigned and its
 * positions are drawn inside one short critical section (a session advisory
 * lock released before COMMIT), so xid order equals position order across
 * appends. Readers then only return rows whose xid is below the snapshot's
 * xmin (see docs/adr/0002-global-order.md); commits stay concurrent.
 */
export async function appendInTransaction(
  q: QueryRunner,
  target: AppendTarget,
  streamId: string,
  events: EventToWrite[],
  expectedVersion: ExpectedVersion,
): Promise<AppendResult> {
  checkRequest(streamId, events, expectedVersion);
  const ids = events.map((e) => (e.eventId ??= randomUUID()));
  // Appends to one stream queue behind each other (until COMMIT) instead of racing on the unique
  // (stream_id, stream_version) key: 'any' never fails, explicit versions fail deterministically.
  await q.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [target.streamLockClass, streamId]);
  const [{ version }] = await q.query(
    `SELECT coalesce(max(stream_version), 0)::int AS version FROM ${target.schema}.events WHERE stream_id = $1`,
    [streamId],
  );
  // Checked under the stream lock, so a concurrent retry of the same ids sees the original.
  const previous = await findExisting(q, target, streamId, ids);
  if (previous) return previous;
  checkExpected(streamId, expectedVersion, version);

  const [k1, k2] = target.sequenceLock;
  await q.query('SELECT pg_advisory_lock($1, $2), pg_current_xact_id()', [k1, k2]);
  let rows: Array<{ position: string; stream_version: number }>;
  try {
    rows = await q.query(
      `INSERT INTO ${target.schema}.events
         (event_id, stream_id, stream_version, type, schema_version, data, metadata, recorded_at)
       SELECT e.id, $1, $2 + e.ord, e.type, e.schema_version, e.data, e.metadata, coalesce(e.recorded_at, now())
         FROM unnest($3::uuid[], $4::text[], $5::int[], $6::jsonb[], $7::jsonb[], $8::timestamptz[])
              WITH ORDINALITY AS e(id, type, schema_version, data, metadata, recorded_at, ord)
        ORDER BY e.ord
       RETURNING position, stream_version`,
      [
        streamId,
        version,
        ids,
        events.map((e) => e.type),
        events.map((e) => e.schemaVersion),
        events.map((e) => JSON.stringify(e.data)),
        events.map((e) => JSON.stringify({ occurredAt: new Date().toISOString(), ...e.metadata })),
        events.map((e) => e.recordedAt ?? null),
      ],
    );
  } finally {
    // An aborted transaction cannot run the unlock; the caller then unlocks after ROLLBACK.
    if (!q.isTransactionActive || !(await unlockIfPossible(q, k1, k2))) (q as LockTracking).pendingUnlock = [k1, k2];
  }
  const last = rows.reduce((a, b) => (Number(a.position) > Number(b.position) ? a : b));
  await q.query('SELECT pg_notify($1, $2)', [target.channel, last.position]);
  return { streamVersion: last.stream_version, position: Number(last.position), written: true };
}

/** Marker left on a query runner whose advisory lock must be released after ROLLBACK. */
export type LockTracking = QueryRunner & { pendingUnlock?: [number, number] };

async function unlockIfPossible(q: QueryRunner, k1: number, k2: number): Promise<boolean> {
  try {
    await q.query('SELECT pg_advisory_unlock($1, $2)', [k1, k2]);
    return true;
  } catch {
    return false;
  }
}

/** Returns the original result when every id is already stored on this stream (a retry). */
async function findExisting(
  q: QueryRunner,
  target: AppendTarget,
  streamId: string,
  ids: string[],
): Promise<AppendResult | null> {
  const rows: Array<{ stream_id: string; stream_version: number; position: string }> = await q.query(
    `SELECT stream_id, stream_version, position FROM ${target.schema}.events WHERE event_id = ANY($1::uuid[])`,
    [ids],
  );
  if (rows.length === 0) return null;
  if (rows.length !== ids.length || rows.some((r) => r.stream_id !== streamId)) {
    throw new IdempotencyConflictError(streamId, ids);
  }
  const last = rows.reduce((a, b) => (Number(a.position) > Number(b.position) ? a : b));
  return { streamVersion: last.stream_version, position: Number(last.position), written: false };
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

function checkExpected(streamId: string, expected: ExpectedVersion, actual: number): void {
  const matches =
    expected === 'any' ||
    (expected === 'no_stream' && actual === 0) ||
    (expected === 'stream_exists' && actual > 0) ||
    expected === actual;
  if (!matches) throw new ConcurrencyConflictError(streamId, expected, actual);
}
