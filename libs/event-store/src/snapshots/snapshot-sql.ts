import { createHash } from 'node:crypto';
import type { Queryable } from '../postgres/queryable';
import { EVENT_COLUMNS, type EventRow, toStoredEvent } from '../postgres/rows';
import type { StoredEvent } from '../types';

/** A stored snapshot as the load reads it. */
export interface SnapshotRow {
  stream_version: number;
  event_id: string;
  state: Record<string, unknown>;
}

/** The latest usable snapshot of one shape and the first events after it (or from the start). */
export interface SnapshotHead {
  snapshot?: SnapshotRow;
  /** Up to `limit` events after the snapshot, in stream order, as stored. */
  events: StoredEvent[];
}

/**
 * The snapshot of this shape (name and version), used only if the event it was taken at is still
 * in the log under the same id (a snapshot never outlives the history it summarises: a log
 * restored or re-imported without it), and the first events after it, in one round trip: a load
 * with snapshots costs no more statements than one without. The state comes on the first row only.
 */
const READ_FROM_SNAPSHOT = (s: string) => `WITH snap AS (
    SELECT sn.stream_version, sn.event_id, sn.state FROM ${s}.snapshots sn
      JOIN ${s}.events e ON e.stream_id = sn.stream_id AND e.stream_version = sn.stream_version AND e.event_id = sn.event_id
     WHERE sn.stream_id = $1 AND sn.aggregate_type = $2 AND sn.schema_version = $3)
  SELECT CASE WHEN t.rn IS NULL OR t.rn = 1 THEN sn.state END AS snapshot_state,
         sn.stream_version AS snapshot_version, sn.event_id AS snapshot_event_id, t.*
    FROM (SELECT 1) one
    LEFT JOIN snap sn ON true
    LEFT JOIN LATERAL (
      SELECT ${EVENT_COLUMNS}, row_number() OVER (ORDER BY stream_version) AS rn FROM ${s}.events
       WHERE stream_id = $1 AND stream_version > coalesce(sn.stream_version, 0) ORDER BY stream_version LIMIT $4) t ON true
   ORDER BY t.stream_version`;

type HeadRow = Omit<EventRow, 'position'> & {
  position: string | null;
  snapshot_state: Record<string, unknown> | null;
  snapshot_version: number | null;
  snapshot_event_id: string | null;
};

/** A connection pool that runs named (prepared) statements: `pg`'s `Pool`. */
export interface PreparingPool {
  query<R extends object>(config: { name: string; text: string; values: unknown[] }): Promise<{ rows: R[] }>;
}

/** The named statement {@link readFromSnapshot} runs in `schema`; built once per store (its name hashes its text). */
export interface SnapshotHeadStatement {
  name: string;
  text: string;
}

export function snapshotHeadStatement(schema: string): SnapshotHeadStatement {
  const text = READ_FROM_SNAPSHOT(schema);
  return { name: `es_snapshot_head_${createHash('sha1').update(text).digest('hex').slice(0, 16)}`, text };
}

/**
 * Reads a stream's latest usable snapshot of one shape and up to `limit` events after it. A
 * named statement: each pooled connection plans it once (measured: planning the join and the
 * lateral read cost more than running them for a short stream).
 */
export async function readFromSnapshot(
  pool: PreparingPool,
  statement: SnapshotHeadStatement,
  key: { streamId: string; name: string; version: number },
  limit: number,
): Promise<SnapshotHead> {
  const { rows } = await pool.query<HeadRow>({ ...statement, values: [key.streamId, key.name, key.version, limit] });
  const [first] = rows;
  const snapshot =
    first.snapshot_version === null
      ? undefined
      : { stream_version: first.snapshot_version, event_id: first.snapshot_event_id!, state: first.snapshot_state! };
  const events = first.position === null ? [] : rows.map((r) => toStoredEvent(r as EventRow));
  return { snapshot, events };
}

/**
 * Shares the stream's append lock (appends take it exclusively until COMMIT), so the write
 * below sees every append that was in flight when it started, an erasure's included.
 */
const SHARE_STREAM_LOCK = 'SELECT pg_advisory_xact_lock_shared($1, hashtext($2))';

/**
 * Stores a snapshot unless a newer one of the same shape is there (a stale writer never wins),
 * and unless the stream has a `notAfter` event past it (an erasure: nothing is snapshotted
 * after it).
 */
const UPSERT_SNAPSHOT = (s: string) => `INSERT INTO ${s}.snapshots AS sn
    (stream_id, aggregate_type, schema_version, stream_version, event_id, state)
  SELECT $1, $2, $3, $4, $5, $6::jsonb
   WHERE cardinality($7::text[]) = 0
      OR NOT EXISTS (SELECT 1 FROM ${s}.events e WHERE e.stream_id = $1 AND e.stream_version > $4 AND e.type = ANY($7::text[]))
  ON CONFLICT (stream_id, aggregate_type, schema_version) DO UPDATE
    SET stream_version = EXCLUDED.stream_version, event_id = EXCLUDED.event_id, state = EXCLUDED.state, taken_at = now()
    WHERE sn.stream_version < EXCLUDED.stream_version
  RETURNING stream_version`;

/** One snapshot to store. */
export interface SnapshotWrite {
  streamId: string;
  name: string;
  version: number;
  streamVersion: number;
  eventId: string;
  state: Record<string, unknown>;
  notAfter: readonly string[];
}

/** Writes a snapshot in the caller's transaction; true when it was stored (not stale, not fenced). */
export async function upsertSnapshot(q: Queryable, schema: string, streamLockClass: number, w: SnapshotWrite): Promise<boolean> {
  await q.query(SHARE_STREAM_LOCK, [streamLockClass, w.streamId]);
  const rows = await q.query(UPSERT_SNAPSHOT(schema), [
    w.streamId,
    w.name,
    w.version,
    w.streamVersion,
    w.eventId,
    JSON.stringify(w.state),
    w.notAfter,
  ]);
  return rows.length > 0;
}

const DELETE_SNAPSHOTS = (s: string) => `DELETE FROM ${s}.snapshots WHERE stream_id = $1`;

/** Deletes every snapshot of a stream, of every shape; answers how many. */
export async function deleteStreamSnapshots(q: Queryable, schema: string, streamId: string): Promise<number> {
  return q.execute(DELETE_SNAPSHOTS(schema), [streamId]);
}
