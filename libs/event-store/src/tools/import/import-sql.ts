/**
 * The statements of a bulk import, in the order they run, on one session
 * (temporary tables: nothing to clean up after a crash). Each check returns
 * the first offending line, or no row.
 */

/** The lines as COPY delivers them, parsed as JSON on the way in (NULL: a blank line). */
export const CREATE_LINES = `CREATE TEMP TABLE es_import_lines (line bigint NOT NULL, j jsonb)`;
export const COPY_LINES = `COPY es_import_lines (line, j) FROM STDIN (FORMAT binary)`;

const UUID = `'^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'`;
/** A date starts with a digit: keeps out words PostgreSQL reads as dates ('now', 'infinity', 'epoch'); the cast checks the rest. */
const DATE_LIKE = `'^[0-9]'`;
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
  CASE WHEN ${j} ? 'recordedAt' AND NOT ${IS(`jsonb_typeof(${j}->'recordedAt') = 'string' AND ${j}->>'recordedAt' ~ ${DATE_LIKE}`)}
       THEN 'recordedAt must be a date' END), '') END`;

/**
 * The fast path for a valid file: extract and cast each line's fields once,
 * join it to the log by event id. `ok` is false for a line that cast but
 * breaks a rule of `parseExportLine`; a line that does not even cast fails the
 * statement. Either way the careful path then finds the first bad line and
 * says why. `OFFSET 0` keeps the extraction a subquery: flattened, every
 * reference to a field would look it up again.
 */
export const PLAN = (schema: string) => `CREATE TEMP TABLE es_import_plan AS
  SELECT v.*, e.position IS NOT NULL AS stored, e.stream_id AS stored_stream, e.stream_version AS stored_version
    FROM (SELECT line, id::uuid AS event_id, sid #>> '{}' AS stream_id, sv::int AS stream_version, t #>> '{}' AS type,
                 sch::int AS schema_version, data, coalesce(meta, '{}'::jsonb) AS metadata,
                 coalesce((rec #>> '{}')::timestamptz, now()) AS recorded_at, ${FAST_RULES} AS ok
            FROM (SELECT line, j, j->>'eventId' AS id, j->'streamId' AS sid, (j->'streamVersion')::numeric AS sv, j->'type' AS t,
                         (j->'schemaVersion')::numeric AS sch, j->'data' AS data, j->'metadata' AS meta, j->'recordedAt' AS rec
                    FROM es_import_lines WHERE j IS NOT NULL OFFSET 0) fields) v
    LEFT JOIN ${schema}.events e ON e.event_id = v.event_id`;

/** The rules of `parseExportLine` that a successful cast does not already enforce, cheaply (no regular expressions). */
const FAST_RULES = `coalesce(jsonb_typeof(j) = 'object' AND length(id) = 36
    AND substr(id, 9, 1) = '-' AND substr(id, 14, 1) = '-' AND substr(id, 19, 1) = '-' AND substr(id, 24, 1) = '-'
    AND jsonb_typeof(sid) = 'string' AND char_length(sid #>> '{}') BETWEEN 1 AND 200
    AND sv = trunc(sv) AND sv BETWEEN 1 AND 2147483647 AND jsonb_typeof(t) = 'string' AND t <> '""'::jsonb
    AND sch = trunc(sch) AND sch BETWEEN 1 AND 2147483647
    AND jsonb_typeof(data) = 'object' AND (meta IS NULL OR jsonb_typeof(meta) = 'object')
    AND (rec IS NULL OR (jsonb_typeof(rec) = 'string' AND rec #>> '{}' ~ ${DATE_LIKE})), false)`;
/** One scan: lines to check carefully, lines already stored, and the first id stored as another event. */
export const PLAN_SUMMARY = `SELECT bool_or(NOT ok) AS bad, count(*) FILTER (WHERE stored)::int AS stored, count(*)::int AS lines,
    min(line) FILTER (WHERE stored AND (stored_stream <> stream_id OR stored_version <> stream_version)) AS elsewhere
  FROM es_import_plan`;
export const INDEX_PLAN = `CREATE INDEX ON es_import_plan (line)`;

/** Careful path: every line parsed with the problems `parseExportLine` would name; `where` restricts the lines. */
const PARSED_ROWS = (where: string) => `SELECT line, problems,
         CASE WHEN problems IS NULL THEN coalesce((j->>'recordedAt')::timestamptz, now()) END AS recorded_at
    FROM (SELECT line, j, ${PROBLEMS('j')} AS problems
            FROM es_import_lines WHERE j IS NOT NULL ${where} OFFSET 0) checked`;

/** The first line in [$1, $2] that breaks a rule; fails if a line there cannot be read (JSON, the recordedAt cast). */
export const FIRST_BAD_IN_RANGE = `SELECT line, problems FROM (${PARSED_ROWS('AND line BETWEEN $1 AND $2')}) r
  WHERE problems IS NOT NULL OR recorded_at IS NULL ORDER BY line LIMIT 1`;
export const LINE_RANGE = `SELECT min(line) AS first, max(line) AS last FROM es_import_lines WHERE j IS NOT NULL`;
export const LINE_TEXT = `SELECT j::text AS text FROM es_import_lines WHERE line = $1`;

export const STORED_ELSEWHERE = `SELECT line, event_id, stored_stream, stored_version FROM es_import_plan WHERE line = $1`;

/** An event id the file has twice (hashing, no sort). */
export const DUPLICATE_ID = `SELECT event_id FROM es_import_plan GROUP BY event_id HAVING count(*) > 1 LIMIT 1`;
export const LINES_OF_ID = `SELECT line FROM es_import_plan WHERE event_id = $1 ORDER BY line LIMIT 2`;

/**
 * In one pass over each stream's lines in line order: versions must be
 * consecutive, and the stream's first line still to write must continue the
 * stream as the log has it (no gap, no version the log already has).
 */
export const FIRST_VERSION_BREAK = (schema: string) => `SELECT line, stream_id, stream_version, previous, current FROM (
    SELECT line, stream_id, stream_version, previous,
           CASE WHEN NOT stored AND coalesce(previous_stored, true)
                THEN (SELECT coalesce(max(e.stream_version), 0) FROM ${schema}.events e WHERE e.stream_id = o.stream_id) END AS current
      FROM (SELECT line, stream_id, stream_version, stored,
                   lag(stream_version) OVER w AS previous, lag(stored) OVER w AS previous_stored
              FROM es_import_plan WINDOW w AS (PARTITION BY stream_id ORDER BY line)) o) c
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
    SELECT r.first_position + (p.line - $3::bigint - 1), r.horizon, p.event_id, p.stream_id, p.stream_version, p.type,
           p.schema_version, p.data, p.metadata, p.recorded_at
      FROM es_import_plan p CROSS JOIN reserved r
     WHERE NOT p.stored AND p.line > $3 AND p.line <= $4
    RETURNING position)
  SELECT count(*)::int AS written, coalesce(max(position), 0) AS position FROM written`;

export const LINE_OF_VERSION = `SELECT line FROM es_import_plan WHERE stream_id = $1 AND stream_version = $2`;
export const LINE_OF_ID = `SELECT line FROM es_import_plan WHERE event_id = $1`;
