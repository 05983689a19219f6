/**
 * The statements of a bulk import, in the order they run, on one session
 * (temporary tables: nothing to clean up after a crash). Each check returns
 * the first offending line, or no row.
 */

/** Raw lines as COPY delivers them. */
export const CREATE_LINES = `CREATE TEMP TABLE es_import_lines (line bigint NOT NULL, text text NOT NULL)`;
export const COPY_LINES = `COPY es_import_lines (line, text) FROM STDIN (FORMAT binary)`;

const UUID = `'^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'`;
const ISO_DATE = `'^\\d{4}-\\d{2}-\\d{2}([T ]\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,9})?)?)?(Z|[+-]\\d{2}(:?\\d{2})?)?$'`;
const POSITIVE_INT = (v: string) =>
  `CASE WHEN jsonb_typeof(${v}) = 'number' THEN (${v})::numeric = trunc((${v})::numeric) AND (${v})::numeric BETWEEN 1 AND 2147483647 ELSE false END`;
const IS = (condition: string) => `coalesce(${condition}, false)`;

/** What is wrong with a parsed line (the messages of `parseExportLine`), or NULL. */
const PROBLEMS = (j: string) => `CASE WHEN jsonb_typeof(${j}) <> 'object' THEN 'not a JSON object' ELSE nullif(concat_ws('; ',
  CASE WHEN NOT ${IS(`jsonb_typeof(${j}->'eventId') = 'string' AND ${j}->>'eventId' ~* ${UUID}`)} THEN 'eventId must be a UUID' END,
  CASE WHEN NOT ${IS(`jsonb_typeof(${j}->'streamId') = 'string' AND char_length(${j}->>'streamId') BETWEEN 1 AND 200`)}
       THEN 'streamId must be 1..200 chars' END,
  CASE WHEN NOT (${POSITIVE_INT(`${j}->'streamVersion'`)}) THEN 'streamVersion must be an integer >= 1' END,
  CASE WHEN NOT ${IS(`jsonb_typeof(${j}->'type') = 'string' AND ${j}->>'type' <> ''`)} THEN 'type must be a non-empty string' END,
  CASE WHEN NOT (${POSITIVE_INT(`${j}->'schemaVersion'`)}) THEN 'schemaVersion must be an integer >= 1' END,
  CASE WHEN NOT ${IS(`jsonb_typeof(${j}->'data') = 'object'`)} THEN 'data must be an object' END,
  CASE WHEN ${j} ? 'metadata' AND jsonb_typeof(${j}->'metadata') <> 'object' THEN 'metadata must be an object' END,
  CASE WHEN ${j} ? 'recordedAt' AND NOT ${IS(`jsonb_typeof(${j}->'recordedAt') = 'string' AND ${j}->>'recordedAt' ~ ${ISO_DATE}`)}
       THEN 'recordedAt must be a date' END), '') END`;

/** Every line parsed, with the columns of valid ones; `where` restricts the lines. Fails as a whole on invalid JSON. */
const PARSED_ROWS = (where: string) => `SELECT line, problems,
         CASE WHEN problems IS NULL THEN (j->>'eventId')::uuid END AS event_id,
         j->>'streamId' AS stream_id,
         CASE WHEN problems IS NULL THEN (j->'streamVersion')::numeric::int END AS stream_version,
         j->>'type' AS type,
         CASE WHEN problems IS NULL THEN (j->'schemaVersion')::numeric::int END AS schema_version,
         j->'data' AS data,
         coalesce(j->'metadata', '{}'::jsonb) AS metadata,
         CASE WHEN problems IS NULL THEN coalesce((j->>'recordedAt')::timestamptz, now()) END AS recorded_at
    FROM (SELECT line, j, ${PROBLEMS('j')} AS problems
            FROM (SELECT line, text::jsonb AS j FROM es_import_lines ${where}) parsed) checked`;

export const PARSE_LINES = `CREATE TEMP TABLE es_import_rows AS ${PARSED_ROWS('')}`;

/** Parses lines [$1, $2] exactly as PARSE_LINES does; fails if any of them fails (the search for the line that broke it). */
export const PARSE_RANGE = `SELECT count(recorded_at) FROM (${PARSED_ROWS('WHERE line BETWEEN $1 AND $2')}) r`;

export const LINE_RANGE = `SELECT min(line) AS first, max(line) AS last FROM es_import_lines`;
export const LINE_TEXT = `SELECT text FROM es_import_lines WHERE line = $1`;

export const FIRST_INVALID = `SELECT line, problems FROM es_import_rows WHERE problems IS NOT NULL ORDER BY line LIMIT 1`;

export const FIRST_DUPLICATE_ID = `SELECT line, event_id, first_line FROM (
    SELECT line, event_id, min(line) OVER (PARTITION BY event_id) AS first_line FROM es_import_rows) d
  WHERE line <> first_line ORDER BY line LIMIT 1`;

/** A stream's lines must carry consecutive versions, in line order. */
export const FIRST_VERSION_OUT_OF_ORDER = `SELECT line, stream_id, stream_version, previous FROM (
    SELECT line, stream_id, stream_version, lag(stream_version) OVER (PARTITION BY stream_id ORDER BY line) AS previous
      FROM es_import_rows) o
  WHERE previous IS NOT NULL AND stream_version <> previous + 1 ORDER BY line LIMIT 1`;

/** Joins the lines to the log by event id; `seq` numbers the lines still to write, in line order. */
export const PLAN = (schema: string) => `CREATE TEMP TABLE es_import_plan AS
  SELECT r.*, e.stream_id AS stored_stream, e.stream_version AS stored_version, e.position IS NOT NULL AS stored,
         CASE WHEN e.position IS NULL THEN row_number() OVER (PARTITION BY e.position IS NULL ORDER BY r.line) END AS seq
    FROM es_import_rows r LEFT JOIN ${schema}.events e ON e.event_id = r.event_id`;
export const INDEX_PLAN = `CREATE INDEX ON es_import_plan (seq)`;
export const PLAN_COUNTS = `SELECT count(*) FILTER (WHERE stored)::int AS stored, count(*) FILTER (WHERE NOT stored)::int AS fresh
  FROM es_import_plan`;

/** An event id already in the log, but as another event. */
export const FIRST_STORED_ELSEWHERE = `SELECT line, event_id, stored_stream, stored_version FROM es_import_plan
  WHERE stored AND (stored_stream <> stream_id OR stored_version <> stream_version) ORDER BY line LIMIT 1`;

/** Each stream's first line to write must continue the stream as the log has it. */
export const FIRST_DISCONTINUITY = (schema: string) => `SELECT f.line, f.stream_id, f.stream_version, c.current FROM (
    SELECT DISTINCT ON (stream_id) stream_id, stream_version, line FROM es_import_plan WHERE NOT stored ORDER BY stream_id, line) f
  CROSS JOIN LATERAL (SELECT coalesce(max(e.stream_version), 0) AS current FROM ${schema}.events e WHERE e.stream_id = f.stream_id) c
  WHERE f.stream_version <> c.current + 1 ORDER BY f.line LIMIT 1`;

/**
 * Writes lines `seq` in ($4, $4 + $1] as one transaction: positions and the
 * horizon from `reserve_positions` (the global-order protocol, ADR 0002), one
 * set-based INSERT. An id that appeared meanwhile (a concurrent import of the
 * same file) is skipped, not duplicated.
 */
export const MOVE_CHUNK = (schema: string) => `WITH reserved AS MATERIALIZED (
    SELECT positions, horizon FROM ${schema}.reserve_positions($1::int, $2, $3)),
  written AS (
    INSERT INTO ${schema}.events (position, transaction_id, event_id, stream_id, stream_version, type, schema_version,
                                  data, metadata, recorded_at)
    OVERRIDING SYSTEM VALUE
    SELECT r.positions[(p.seq - $4)::int], r.horizon, p.event_id, p.stream_id, p.stream_version, p.type, p.schema_version,
           p.data, p.metadata, p.recorded_at
      FROM es_import_plan p CROSS JOIN reserved r
     WHERE p.seq > $4 AND p.seq <= $4 + $1
     ORDER BY p.seq
    ON CONFLICT (event_id) DO NOTHING
    RETURNING position)
  SELECT count(*)::int AS written, coalesce(max(position), 0) AS position FROM written`;

export const LINE_OF_VERSION = `SELECT line FROM es_import_plan WHERE stream_id = $1 AND stream_version = $2`;
