import type { Queryable } from '../postgres/queryable';
import { AbortedRebuild, ProjectionError, ProjectionPhase, ProjectionRow, StoredProjectionRow, toRow } from './projection-state';

// Every statement on the `projections` table. `$t` is the quoted, schema-qualified table.
// Writes that move a checkpoint or change a phase compare-and-set on what the caller saw,
// and take the row lock first in their transaction (see ProjectionStateStore).

const SELECT_ONE = 'SELECT * FROM $t WHERE name = $1';
const SELECT_ALL = 'SELECT * FROM $t ORDER BY name';
const SELECT_CHECKPOINT = 'SELECT position FROM $t WHERE name = $1';
const INSERT_IF_MISSING = 'INSERT INTO $t (name, version) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING RETURNING name';

const NEW_REBUILD = `jsonb_build_object('version', $2::int, 'position', 0, 'startedAt', now(), 'prepared', false,
                                       'state', 'running', 'error', null)`;
/** Only a newer version schedules: an older replica in a rolling deploy never drags the model back. */
const SCHEDULE_NEWER_REBUILD = `UPDATE $t SET rebuild = ${NEW_REBUILD}, updated_at = now()
  WHERE name = $1 AND version < $2 AND (rebuild IS NULL OR (rebuild->>'version')::int < $2)
    AND (aborted_rebuild IS NULL OR (aborted_rebuild->>'version')::int < $2)`;
/** Never to a version older than the live model's (an old replica's admin API must not start one nobody can run). */
const REQUEST_REBUILD = `UPDATE $t SET rebuild = ${NEW_REBUILD}, updated_at = now()
  WHERE name = $1 AND rebuild IS NULL AND version <= $2`;

const IS_RUNNING_REBUILD = `(rebuild->>'version')::int = $2 AND coalesce(rebuild->>'state', 'running') = 'running'`;
const MARK_PREPARED = `UPDATE $t SET rebuild = rebuild || '{"prepared": true, "position": 0}'::jsonb, updated_at = now()
  WHERE name = $1 AND ${IS_RUNNING_REBUILD} AND NOT (rebuild->>'prepared')::boolean`;

/** $3: the checkpoint the batch starts after; $4: the new checkpoint; $5: the error to stop on, or null. */
const ADVANCE_LIVE = `UPDATE $t SET position = $4, updated_at = now(),
       state = CASE WHEN $5::jsonb IS NULL THEN state ELSE 'stopped' END, error = coalesce($5::jsonb, error)
  WHERE name = $1 AND version = $2 AND position = $3 AND state = 'running'`;
const ADVANCE_REBUILD = `UPDATE $t SET updated_at = now(), rebuild = rebuild || jsonb_build_object('position', $4::bigint)
       || CASE WHEN $5::jsonb IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('state', 'stopped', 'error', $5::jsonb) END
  WHERE name = $1 AND ${IS_RUNNING_REBUILD} AND (rebuild->>'prepared')::boolean AND (rebuild->>'position')::bigint = $3`;

/** A rebuild that failed in a step of its own (not on an event) stops with the error; $3 is the error. */
const STOP_REBUILD = `UPDATE $t SET updated_at = now(), rebuild = rebuild || jsonb_build_object('state', 'stopped', 'error', $3::jsonb)
  WHERE name = $1 AND ${IS_RUNNING_REBUILD}`;

/** The rebuilt model becomes the live one; a stop of the old live model goes with it. */
const SWITCH_LIVE = `UPDATE $t SET version = $2, position = $3, rebuild = NULL, state = 'running', error = NULL, updated_at = now()
  WHERE name = $1 AND ${IS_RUNNING_REBUILD} AND (rebuild->>'prepared')::boolean AND (rebuild->>'position')::bigint = $3
    AND position <= $3`;

const ABORT_REBUILD = `UPDATE $t SET rebuild = NULL, updated_at = now(),
       aborted_rebuild = jsonb_build_object('version', (rebuild->>'version')::int, 'position', (rebuild->>'position')::bigint, 'at', now())
  WHERE name = $1 AND rebuild IS NOT NULL RETURNING aborted_rebuild`;

/** $2 names the phase a command is for ('live', 'rebuild'), or null for whichever is stopped. */
const FOR_LIVE = `($2::text IS NULL OR $2 = 'live')`;
const FOR_REBUILD = `($2::text IS NULL OR $2 = 'rebuild')`;
const RETRY = `WITH x AS (
    SELECT name, state = 'stopped' AND ${FOR_LIVE} AS live_hit,
           coalesce(rebuild->>'state' = 'stopped', false) AND ${FOR_REBUILD} AS rebuild_hit
      FROM $t WHERE name = $1 FOR UPDATE)
  UPDATE $t p SET updated_at = now(),
         state = CASE WHEN x.live_hit THEN 'running' ELSE p.state END,
         error = CASE WHEN x.live_hit THEN NULL ELSE p.error END,
         rebuild = CASE WHEN x.rebuild_hit THEN p.rebuild || '{"state": "running", "error": null}'::jsonb ELSE p.rebuild END
    FROM x WHERE p.name = x.name AND (x.live_hit OR x.rebuild_hit)
  RETURNING x.live_hit, x.rebuild_hit`;
/**
 * $3: the position to skip; each phase stopped exactly there resumes past it. The skip is recorded per phase, and a
 * rebuild skip names its rebuild, so it never leaves the event out of the live model or of another rebuild. A
 * rebuild stopped in a step of its own (no event in its error) has nothing to skip: retry or abort it.
 */
const SKIP = `WITH x AS (
    SELECT name, state = 'stopped' AND (error->>'position')::bigint = $3 AND ${FOR_LIVE} AS live_hit,
           coalesce(rebuild->>'state' = 'stopped' AND (rebuild->'error'->>'position')::bigint = $3
                    AND rebuild->'error'->>'eventId' IS NOT NULL, false) AND ${FOR_REBUILD} AS rebuild_hit
      FROM $t WHERE name = $1 FOR UPDATE)
  UPDATE $t p SET updated_at = now(),
         state = CASE WHEN x.live_hit THEN 'running' ELSE p.state END,
         error = CASE WHEN x.live_hit THEN NULL ELSE p.error END,
         position = CASE WHEN x.live_hit THEN $3 ELSE p.position END,
         rebuild = CASE WHEN x.rebuild_hit
                   THEN p.rebuild || jsonb_build_object('state', 'running', 'error', null, 'position', $3::bigint) ELSE p.rebuild END,
         skipped = p.skipped
           || CASE WHEN x.live_hit
                   THEN jsonb_build_array(jsonb_build_object('position', $3::bigint, 'at', now(), 'error', p.error, 'phase', 'live'))
                   ELSE '[]'::jsonb END
           || CASE WHEN x.rebuild_hit
                   THEN jsonb_build_array(jsonb_build_object('position', $3::bigint, 'at', now(), 'error', p.rebuild->'error',
                          'phase', 'rebuild', 'rebuild', jsonb_build_object('version', (p.rebuild->>'version')::int,
                                                                             'startedAt', p.rebuild->'startedAt')))
                   ELSE '[]'::jsonb END
    FROM x WHERE p.name = x.name AND (x.live_hit OR x.rebuild_hit)
  RETURNING x.live_hit, x.rebuild_hit`;

/** A relay's operator pause: the row stops without an error (a stop on an event has one); RETRY resumes it. */
const PAUSE = `UPDATE $t SET state = 'stopped', updated_at = now() WHERE name = $1 AND state = 'running'`;
/** A relay's operator replay: the checkpoint moves to $2 (the batch in flight then fails its compare-and-set). */
const REWIND = `UPDATE $t SET position = $2, updated_at = now() WHERE name = $1`;

/** Which phases a retry or a skip resumed. */
type Hits = { live_hit: boolean; rebuild_hit: boolean };

/**
 * The projections table: one row per projection with its live checkpoint and
 * state, a rebuild in progress (its own checkpoint and state), the last
 * aborted rebuild and the skip audit trail. Shared by the runner (on its lock
 * connection, inside batch transactions) and the service's operator commands.
 */
export class ProjectionStateStore {
  private readonly sql: Record<string, string>;

  /** @param schema quoted schema holding the table. */
  constructor(schema: string) {
    const table = `${schema}.projections`;
    const all = {
      SELECT_ONE,
      SELECT_ALL,
      SELECT_CHECKPOINT,
      INSERT_IF_MISSING,
      SCHEDULE_NEWER_REBUILD,
      REQUEST_REBUILD,
      MARK_PREPARED,
      ADVANCE_LIVE,
      ADVANCE_REBUILD,
      STOP_REBUILD,
      SWITCH_LIVE,
      ABORT_REBUILD,
      RETRY,
      SKIP,
      PAUSE,
      REWIND,
    };
    this.sql = Object.fromEntries(Object.entries(all).map(([k, v]) => [k, v.replace(/\$t/g, table)]));
  }

  async read(q: Queryable, name: string): Promise<ProjectionRow | undefined> {
    const [row] = await q.query<StoredProjectionRow>(this.sql.SELECT_ONE, [name]);
    return row ? toRow(row) : undefined;
  }

  async readAll(q: Queryable): Promise<ProjectionRow[]> {
    return (await q.query<StoredProjectionRow>(this.sql.SELECT_ALL)).map(toRow);
  }

  /** Live checkpoint; 0 before the projection's first run. */
  async checkpoint(q: Queryable, name: string): Promise<number> {
    const [row] = await q.query<{ position: string }>(this.sql.SELECT_CHECKPOINT, [name]);
    return row ? Number(row.position) : 0;
  }

  /** Creates the row on a projection's first run; true when it did (its live tables are then to be created). */
  async insertIfMissing(q: Queryable, name: string, version: number): Promise<boolean> {
    return (await q.query(this.sql.INSERT_IF_MISSING, [name, version])).length === 1;
  }

  /** A deploy of `version`: schedules its rebuild unless the model, a rebuild or an aborted rebuild is at least that new. */
  async scheduleNewerRebuild(q: Queryable, name: string, version: number): Promise<boolean> {
    return (await q.execute(this.sql.SCHEDULE_NEWER_REBUILD, [name, version])) === 1;
  }

  /** An operator's rebuild request; false when a rebuild is already there (running or stopped). */
  async requestRebuild(q: Queryable, name: string, version: number): Promise<boolean> {
    return (await q.execute(this.sql.REQUEST_REBUILD, [name, version])) === 1;
  }

  /** Compare-and-set: the rebuild of `version` has its (fresh) shadow tables. */
  async markPrepared(q: Queryable, name: string, version: number): Promise<boolean> {
    return (await q.execute(this.sql.MARK_PREPARED, [name, version])) === 1;
  }

  /**
   * Compare-and-set of a phase's checkpoint from `after` to `to`, stopping the
   * phase when `stop` is given. False when the row no longer matches (another
   * command moved it): the caller must not apply its batch.
   */
  async advance(q: Queryable, name: string, phase: ProjectionPhase, version: number, after: number, to: number, stop?: ProjectionError) {
    const sql = phase === 'live' ? this.sql.ADVANCE_LIVE : this.sql.ADVANCE_REBUILD;
    return (await q.execute(sql, [name, version, after, to, stop ? JSON.stringify(stop) : null])) === 1;
  }

  /** Compare-and-set: the running rebuild of `version` stops on `error` (a failure of its own step); false when it no longer runs. */
  async stopRebuild(q: Queryable, name: string, version: number, error: ProjectionError): Promise<boolean> {
    return (await q.execute(this.sql.STOP_REBUILD, [name, version, JSON.stringify(error)])) === 1;
  }

  /** Compare-and-set: the rebuild of `version`, filled to `position`, becomes the live model's state. */
  async switchLive(q: Queryable, name: string, version: number, position: number): Promise<boolean> {
    return (await q.execute(this.sql.SWITCH_LIVE, [name, version, position])) === 1;
  }

  /** Ends the rebuild (running or stopped) and remembers it; undefined when there was none. */
  async abortRebuild(q: Queryable, name: string): Promise<AbortedRebuild | undefined> {
    const [row] = await q.query<{ aborted_rebuild: AbortedRebuild }>(this.sql.ABORT_REBUILD, [name]);
    return row?.aborted_rebuild;
  }

  /** Resumes the stopped phase(s) on the same event; returns which resumed. */
  async retry(q: Queryable, name: string, phase?: ProjectionPhase): Promise<ProjectionPhase[]> {
    return hits(await q.query<Hits>(this.sql.RETRY, [name, phase ?? null]));
  }

  /** Resumes every (or the named) phase stopped exactly on `position`, past it; returns which resumed. */
  async skip(q: Queryable, name: string, position: number, phase?: ProjectionPhase): Promise<ProjectionPhase[]> {
    return hits(await q.query<Hits>(this.sql.SKIP, [name, phase ?? null, position]));
  }

  /** Stops a running row without an error (a relay's pause); false when it was not running. */
  async pause(q: Queryable, name: string): Promise<boolean> {
    return (await q.execute(this.sql.PAUSE, [name])) === 1;
  }

  /** Moves a row's checkpoint to `position` (a relay's replay); false when there is no row. */
  async rewind(q: Queryable, name: string, position: number): Promise<boolean> {
    return (await q.execute(this.sql.REWIND, [name, position])) === 1;
  }
}

function hits(rows: Hits[]): ProjectionPhase[] {
  const [row] = rows;
  if (!row) return [];
  return [...(row.live_hit ? ['live' as const] : []), ...(row.rebuild_hit ? ['rebuild' as const] : [])];
}
