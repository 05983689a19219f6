/**
 * The statements of a bulk import, in the order they run, on one session
 * (temporary tables: nothing to clean up after a crash). Each check returns
 * the first offending line, or no row.
 */
import { STAGING_COLUMNS } from './copy-encoder';

/** The lines as the encoder sends them, parsed and typed (a blank line: NULLs). */
export const CREATE_STAGING = `CREATE TEMP TABLE es_import_events (line bigint NOT NULL, event_id uuid, stream_id text,
  stream_version int, type text, schema_version int, data jsonb, metadata jsonb, recorded_at timestamptz)`;
export const COPY_STAGING = `COPY es_import_events (${STAGING_COLUMNS}) FROM STDIN (FORMAT binary)`;
export const INDEX_STAGING = `CREATE INDEX ON es_import_events (line)`;

/** The lines whose event id the log already has, with what the log has under it (usually none: small). */
export const FIND_STORED = (schema: string) => `CREATE TEMP TABLE es_import_stored AS
  SELECT i.line, e.stream_id AS stored_stream, e.stream_version AS stored_version
    FROM es_import_events i JOIN ${schema}.events e ON e.event_id = i.event_id`;
export const INDEX_STORED = `CREATE UNIQUE INDEX ON es_import_stored (line)`;

export const COUNTS = `SELECT (SELECT count(*) FROM es_import_events WHERE event_id IS NOT NULL)::int AS lines,
  (SELECT count(*) FROM es_import_stored)::int AS stored`;

/** An event id the file has twice (hashing, no sort). */
export const DUPLICATE_ID = `SELECT event_id FROM es_import_events WHERE event_id IS NOT NULL
  GROUP BY event_id HAVING count(*) > 1 LIMIT 1`;
export const LINES_OF_ID = `SELECT line FROM es_import_events WHERE event_id = $1 ORDER BY line LIMIT 2`;

/** An event id already in the log, but as another event. */
export const FIRST_STORED_ELSEWHERE = `SELECT s.line, i.event_id, s.stored_stream, s.stored_version
  FROM es_import_stored s JOIN es_import_events i USING (line)
  WHERE s.stored_stream <> i.stream_id OR s.stored_version <> i.stream_version ORDER BY s.line LIMIT 1`;

/**
 * In one pass over each stream's lines in line order: versions must be
 * consecutive, and the stream's first line still to write must continue the
 * stream as the log has it (no gap, no version the log already has).
 */
export const FIRST_VERSION_BREAK = (schema: string) => `SELECT line, stream_id, stream_version, previous, current FROM (
    SELECT line, stream_id, stream_version, previous,
           CASE WHEN NOT stored AND coalesce(previous_stored, true)
                THEN (SELECT coalesce(max(e.stream_version), 0) FROM ${schema}.events e WHERE e.stream_id = o.stream_id) END AS current
      FROM (SELECT i.line, i.stream_id, i.stream_version, s.line IS NOT NULL AS stored,
                   lag(i.stream_version) OVER w AS previous, lag(s.line IS NOT NULL) OVER w AS previous_stored
              FROM es_import_events i LEFT JOIN es_import_stored s USING (line)
             WHERE i.event_id IS NOT NULL
            WINDOW w AS (PARTITION BY i.stream_id ORDER BY i.line)) o) c
  WHERE (previous IS NOT NULL AND stream_version <> previous + 1) OR stream_version <> current + 1
  ORDER BY line LIMIT 1`;

/**
 * Writes the lines in ($3, $4] still to write as one transaction, in line
 * order: line L takes position `first + L - $3 - 1` of a block of `$4 - $3`
 * positions from `reserve_positions` (the global-order protocol, ADR 0002),
 * so blank or already stored lines leave gaps instead of costing a sort. No
 * ON CONFLICT (measured: it made the insert 30-50% slower): an id or version
 * another writer took since the checks fails the chunk, and a re-run continues.
 */
export const MOVE_CHUNK = (schema: string) => `WITH reserved AS MATERIALIZED (
    SELECT first_position, horizon FROM ${schema}.reserve_positions(($4::bigint - $3::bigint)::int, $1, $2)),
  written AS (
    INSERT INTO ${schema}.events (position, transaction_id, event_id, stream_id, stream_version, type, schema_version,
                                  data, metadata, recorded_at)
    OVERRIDING SYSTEM VALUE
    SELECT r.first_position + (i.line - $3::bigint - 1), r.horizon, i.event_id, i.stream_id, i.stream_version, i.type,
           i.schema_version, i.data, i.metadata, i.recorded_at
      FROM es_import_events i CROSS JOIN reserved r
     WHERE i.line > $3 AND i.line <= $4 AND i.event_id IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM es_import_stored s WHERE s.line = i.line)
    RETURNING position)
  SELECT count(*)::int AS written, coalesce(max(position), 0) AS position FROM written`;

export const LINE_OF_VERSION = `SELECT line FROM es_import_events WHERE stream_id = $1 AND stream_version = $2`;
export const LINE_OF_ID = `SELECT line FROM es_import_events WHERE event_id = $1`;

/** Fresh planner statistics for the log after a bulk write. */
export const ANALYZE_EVENTS = (schema: string) => `ANALYZE ${schema}.events`;
