import type { Queryable } from '../postgres/queryable';

/** A stored snapshot as the load reads it. */
export interface SnapshotRow {
  stream_version: number;
  event_id: string;
  state: Record<string, unknown>;
}

/**
 * The snapshot of this shape (name and version), only if the event it was taken at is still in
 * the log under the same id: a snapshot never outlives the history it summarises (a log
 * restored or re-imported without it, a stream re-created).
 */
const FIND_SNAPSHOT = (s: string) => `SELECT sn.stream_version, sn.event_id, sn.state FROM ${s}.snapshots sn
  JOIN ${s}.events e ON e.stream_id = sn.stream_id AND e.stream_version = sn.stream_version AND e.event_id = sn.event_id
 WHERE sn.stream_id = $1 AND sn.aggregate_type = $2 AND sn.schema_version = $3`;

/** Reads the latest usable snapshot of one stream for one shape; `undefined` when there is none. */
export async function findSnapshot(
  q: Queryable,
  schema: string,
  streamId: string,
  name: string,
  version: number,
): Promise<SnapshotRow | undefined> {
  const rows = await q.query<SnapshotRow[]>(FIND_SNAPSHOT(schema), [streamId, name, version]);
  return rows[0];
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
  const rows = await q.query<unknown[]>(UPSERT_SNAPSHOT(schema), [
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
  const result = await q.query<[unknown[], number]>(DELETE_SNAPSHOTS(schema), [streamId]);
  return result[1];
}
