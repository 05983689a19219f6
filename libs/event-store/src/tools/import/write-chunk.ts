import type { PoolClient } from 'pg';
import type { AppendTarget } from '../../postgres/append';
import { pgFields } from '../../postgres/pg-errors';
import type { Queryable } from '../../postgres/queryable';
import { pgQueryable } from '../../postgres/queryable-adapters';
import { EventRow, toStoredEvent } from '../../postgres/rows';
import type { StoredEvent } from '../../types';
import { refuseStoredElsewhere } from './check-lines';
import * as sql from './import-sql';

/**
 * Work of the application's own in each write chunk's transaction, after the
 * chunk's events are written (e.g. rows derived from them that must never be
 * missing for an imported event). The import knows nothing of what it does.
 */
export interface ImportChunkHook {
  /** Only events of these types are handed to `run` (default: every event the chunk wrote). */
  types?: readonly string[];
  /**
   * Runs in the chunk's transaction on `q`, with the events it wrote (stored
   * shape, position order; only called when there are some). What it writes
   * commits with them; a throw rolls the chunk back and stops the import.
   */
  run(q: Queryable, written: StoredEvent[]): Promise<void>;
}

/** What one chunk wrote: how many events, and the last position (0 when none). */
export interface ChunkResult {
  written: number;
  position: number;
}

/** Whether no line of the file is stored or left out so far (see `MOVE_CHUNK`); the first conflict ends it. */
export interface ImportState {
  clean: boolean;
}

/**
 * Writes the lines in (after, end] still to write, as one transaction. When
 * another writer took one of their ids or versions since the checks, the
 * chunk is rolled back, the lines that writer stored count as stored, the
 * streams it appended to are left out from there on (they moved on), and the
 * chunk is written again: a live append never stops an import.
 */
export async function writeChunk(
  client: PoolClient,
  target: AppendTarget,
  range: { after: number; end: number; state: ImportState },
  hook: ImportChunkHook | undefined,
): Promise<ChunkResult> {
  const { after, end, state } = range;
  for (;;) {
    try {
      return await moveOnce(client, target, range, hook);
    } catch (error) {
      // The lines another writer stored, or the streams it moved on, must be skipped from now on.
      state.clean = false;
      if (!(await passConflict(client, target.schema, after, end, error))) throw error;
    }
  }
}

type MoveRow = { written: number; first: string; position: string };

async function moveOnce(
  client: PoolClient,
  target: AppendTarget,
  range: { after: number; end: number; state: ImportState },
  hook?: ImportChunkHook,
) {
  const { after, end, state } = range;
  const move = async () => {
    const text = sql.MOVE_CHUNK(target.schema, state.clean);
    const [row] = (await client.query<MoveRow>(text, [...target.sequenceLock, after, end])).rows;
    return row;
  };
  // Without a hook the chunk is one autocommitted statement: one round trip.
  if (!hook) return toResult(await move());
  await client.query('BEGIN');
  try {
    const row = await move();
    if (row.written > 0) {
      const range = [row.first, row.position];
      const { rows } = await client.query<EventRow>(
        sql.WRITTEN_EVENTS(target.schema, hook.types !== undefined),
        hook.types ? [...range, hook.types] : range,
      );
      if (rows.length)
        await hook.run(
          pgQueryable((text, parameters) => client.query(text, parameters)),
          rows.map(toStoredEvent),
        );
    }
    await client.query('COMMIT');
    return toResult(row);
  } catch (error) {
    // The original error says why; a failed ROLLBACK (a lost connection) ends the session anyway.
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

const toResult = (row: MoveRow): ChunkResult => ({ written: row.written, position: Number(row.position) });

/**
 * After a unique violation on the log: records what the other writer did to
 * the chunk's lines. True when that explains the failure (so a retry gets
 * further); an id stored as another event throws `ImportLineError`.
 */
async function passConflict(client: PoolClient, schema: string, after: number, end: number, error: unknown): Promise<boolean> {
  const pg = pgFields(error);
  const onLog = pg.constraint === 'events_stream_version_key' || pg.constraint === 'events_event_id_key';
  if (pg.code !== '23505' || !onLog) return false;
  const stored = (await client.query(sql.FIND_STORED(schema), [after, end])).rowCount ?? 0;
  await refuseStoredElsewhere(client, after, end);
  const moved = (await client.query(sql.MOVED_ON_IN_CHUNK(schema), [after, end])).rowCount ?? 0;
  return stored + moved > 0;
}
