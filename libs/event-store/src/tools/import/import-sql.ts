/**
 * The statements of a bulk import, in the order they run, on one session
 * (temporary tables: nothing to clean up after a crash). Each check returns
 * the first offending line, or no row.
 *
 * A statement that writes a temporary table gets a transaction id, and every
 * global reader is held back while it runs (ADR 0002: readers stop below the
 * oldest running transaction id). So every such statement covers one range
 * of lines at most as long as a write chunk (`$1 < line <= $2`), and the
 * statements over the whole file are read-only (no transaction id).
 */
import { EVENT_COLUMNS } from '../../postgres/rows';
import { STAGING_COLUMNS } from './copy-encoder';

/** The lines as the encoder sends them, parsed and typed (a blank line: NULLs). Indexed as it fills: each COPY is bounded. */
export const CREATE_STAGING = `CREATE TEMP TABLE es_import_events (line bigint PRIMARY KEY, event_id uuid, stream_id text,
  stream_version int, type text, schema_version int, data jsonb, metadata jsonb, recorded_at timestamptz)`;
export const COPY_STAGING = `COPY es_import_events (${STAGING_COLUMNS}) FROM STDIN (FORMAT binary)`;

/** The lines whose event id the log has, with what the log has under it (usually none: small). */
export const CREATE_STORED = `CREATE TEMP TABLE es_import_stored (line bigint PRIMARY KEY, stored_stream text, stored_version int)`;
/** Streams another writer appended to since the import began writing them: their lines from `line` on are left out. */
export const CREATE_MOVED_ON = `CREATE TEMP TABLE es_import_moved_on (stream_id text PRIMARY KEY, line bigint NOT NULL)`;

/** Records the lines in ($1, $2] whose event id the log has now (by the import, an earlier run, or another writer). */
export const FIND_STORED = (schema: string) => `INSERT INTO es_import_stored (line, stored_stream, stored_version)
  SELECT i.line, e.stream_id, e.stream_version FROM es_import_events i JOIN ${schema}.events e ON e.event_id = i.event_id
   WHERE i.line > $1 AND i.line <= $2
  ON CONFLICT (line) DO NOTHING`;

/** A line still to write: not stored, and its stream has not moved on before it. */
const PENDING = `NOT EXISTS (SELECT 1 FROM es_import_stored s WHERE s.line = i.line)
  AND NOT EXISTS (SELECT 1 FROM es_import_moved_on m WHERE m.stream_id = i.stream_id AND i.line >= m.line)`;

export const COUNTS = `SELECT (SELECT count(*) FROM es_import_events WHERE event_id IS NOT NULL)::int AS lines,
  (SELECT count(*) FROM es_import_stored)::int AS stored`;

/** Lines left out because their stream moved on, and the first such line of each stream (up to 1000). */
export const LEFT_OUT = `SELECT count(*)::int AS n FROM es_import_events i
  JOIN es_import_moved_on m ON m.stream_id = i.stream_id AND i.line >= m.line
  WHERE NOT EXISTS (SELECT 1 FROM es_import_stored s WHERE s.line = i.line)`;
export const MOVED_ON = `SELECT m.stream_id, m.line, i.stream_version FROM es_import_moved_on m JOIN es_import_events i USING (line)
  ORDER BY m.line LIMIT 1000`;

/** An event id the file has twice (hashing, no sort). */
export const DUPLICATE_ID = `SELECT event_id FROM es_import_events WHERE event_id IS NOT NULL
  GROUP BY event_id HAVING count(*) > 1 LIMIT 1`;
export const LINES_OF_ID = `SELECT line FROM es_import_events WHERE event_id = $1 ORDER BY line LIMIT 2`;

/** An event id of the lines in ($1, $2] already in the log, but as another event. */
export const FIRST_STORED_ELSEWHERE = `SELECT s.line, i.event_id, s.stored_stream, s.stored_version
  FROM es_import_stored s JOIN es_import_events i USING (line)
  WHERE s.line > $1 AND s.line <= $2 AND (s.stored_stream <> i.stream_id OR s.stored_version <> i.stream_version)
  ORDER BY s.line LIMIT 1`;

/**
 * Streams that moved on while an earlier run was writing them: the first line
 * not stored follows a stored line of the same stream, and the log already has
 * its version as another event (a live append since). Read-only over the file.
 */
export const FIND_MOVED_ON = (schema: string) => `SELECT stream_id, line FROM (
    SELECT i.line, i.stream_id, i.stream_version, s.line IS NOT NULL AS stored, lag(s.line IS NOT NULL) OVER w AS previous_stored
      FROM es_import_events i LEFT JOIN es_import_stored s USING (line)
     WHERE i.event_id IS NOT NULL
    WINDOW w AS (PARTITION BY i.stream_id ORDER BY i.line)) o
  WHERE NOT stored AND previous_stored
    AND EXISTS (SELECT 1 FROM ${schema}.events e WHERE e.stream_id = o.stream_id AND e.stream_version = o.stream_version)`;
export const ADD_MOVED_ON = `INSERT INTO es_import_moved_on (stream_id, line)
  SELECT * FROM unnest($1::text[], $2::bigint[]) ON CONFLICT (stream_id) DO NOTHING`;

/**
 * After a chunk failed on a version another writer took: the streams of lines
 * ($1, $2] whose next line to write has its version taken in the log.
 */
export const MOVED_ON_IN_CHUNK = (schema: string) => `INSERT INTO es_import_moved_on (stream_id, line)
  SELECT DISTINCT ON (i.stream_id) i.stream_id, i.line FROM es_import_events i
   WHERE i.line > $1 AND i.line <= $2 AND i.event_id IS NOT NULL AND ${PENDING}
     AND EXISTS (SELECT 1 FROM ${schema}.events e WHERE e.stream_id = i.stream_id AND e.stream_version = i.stream_version)
   ORDER BY i.stream_id, i.line
  ON CONFLICT (stream_id) DO NOTHING`;

/**
 * In one pass over each stream's lines in line order: versions must be
 * consecutive, and the stream's first line still to write must continue the
 * stream as the log has it (no gap, no version the log already has), unless
 * the stream moved on (its lines from there are left out). `clean`: the log
 * has no line of the file (nothing stored, nothing moved on), so a stream's
 * first line to write is its first line, and the joins with the stored and
 * moved-on lines are left out.
 */
export const FIRST_VERSION_BREAK = (schema: string, clean: boolean) => `SELECT line, stream_id, stream_version, previous, current FROM (
    SELECT line, stream_id, stream_version, previous,
           CASE WHEN ${clean ? 'previous IS NULL' : 'NOT stored AND NOT moved AND coalesce(previous_stored, true)'}
                THEN (SELECT coalesce(max(e.stream_version), 0) FROM ${schema}.events e WHERE e.stream_id = o.stream_id) END AS current
      FROM (${clean ? CLEAN_LINES : LINES_WITH_STATE}
             WHERE i.event_id IS NOT NULL
            WINDOW w AS (PARTITION BY i.stream_id ORDER BY i.line)) o) c
  WHERE (previous IS NOT NULL AND stream_version <> previous + 1) OR stream_version <> current + 1
  ORDER BY line LIMIT 1`;
const CLEAN_LINES = `SELECT i.line, i.stream_id, i.stream_version, lag(i.stream_version) OVER w AS previous FROM es_import_events i`;
const LINES_WITH_STATE = `SELECT i.line, i.stream_id, i.stream_version, s.line IS NOT NULL AS stored,
                   EXISTS (SELECT 1 FROM es_import_moved_on m WHERE m.stream_id = i.stream_id AND i.line >= m.line) AS moved,
                   lag(i.stream_version) OVER w AS previous, lag(s.line IS NOT NULL) OVER w AS previous_stored
              FROM es_import_events i LEFT JOIN es_import_stored s USING (line)`;

/**
 * Writes the lines in ($3, $4] still to write, in line order: line L takes
 * position `first + L - $3 - 1` of a block of `$4 - $3` positions from
 * `reserve_positions` (the global-order protocol, ADR 0002), so blank, stored
 * or left-out lines leave gaps instead of costing a sort. No ON CONFLICT
 * (measured: it made the insert 30-50% slower): an id or version another
 * writer took since the checks fails the chunk, which is then retried past it.
 * `clean`: no line of the file is stored or left out (a first run, no
 * conflict yet), so the two anti-joins that skip such lines are left out
 * (measured: 10-20% of the chunk).
 */
export const MOVE_CHUNK = (schema: string, clean: boolean) => `WITH reserved AS MATERIALIZED (
    SELECT first_position, horizon FROM ${schema}.reserve_positions(($4::bigint - $3::bigint)::int, $1, $2)),
  written AS (
    INSERT INTO ${schema}.events (position, transaction_id, event_id, stream_id, stream_version, type, schema_version,
                                  data, metadata, recorded_at)
    OVERRIDING SYSTEM VALUE
    SELECT r.first_position + (i.line - $3::bigint - 1), r.horizon, i.event_id, i.stream_id, i.stream_version, i.type,
           i.schema_version, i.data, i.metadata, i.recorded_at
      FROM es_import_events i CROSS JOIN reserved r
     WHERE i.line > $3 AND i.line <= $4 AND i.event_id IS NOT NULL ${clean ? '' : `AND ${PENDING}`}
    RETURNING position)
  SELECT count(*)::int AS written, coalesce(min(position), 0) AS first, coalesce(max(position), 0) AS position FROM written`;

/** The events a chunk wrote (its block of positions is its own), optionally only of some types, for the chunk hook. */
export const WRITTEN_EVENTS = (schema: string, typed: boolean) => `SELECT ${EVENT_COLUMNS} FROM ${schema}.events
  WHERE position >= $1 AND position <= $2 ${typed ? 'AND type = ANY($3::text[])' : ''} ORDER BY position`;

export const LINE_OF_ID = `SELECT line FROM es_import_events WHERE event_id = $1`;

/** What the planner knew of the log's size before this import (-1 or 0: never analyzed). */
export const PLANNED_ROWS = `SELECT reltuples::float8 AS rows FROM pg_class WHERE oid = $1::regclass`;

/**
 * Fresh planner statistics for the log after a bulk write, of the columns the
 * store's own statements filter, join or sort on: the jsonb payloads are most
 * of the cost of a full ANALYZE (measured: 110-190 ms against 450-600 ms at
 * 200,000 events) and no statement of the store selects by them.
 */
export const ANALYZE_EVENTS = (schema: string) =>
  `ANALYZE ${schema}.events (position, transaction_id, event_id, stream_id, stream_version, type)`;
