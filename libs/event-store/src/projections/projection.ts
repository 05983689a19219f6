import type { Queryable } from '../postgres/queryable';
import type { RecordedEvent } from '../types';

/**
 * Logical table name -> quoted, schema-qualified physical name. During a
 * rebuild the same logical names point at shadow tables, so projection code
 * never knows which generation it writes.
 */
export type TableNames = Record<string, string>;

/**
 * A read model built from the log. The runner feeds it upcast events of the
 * types it handles, in position order, and commits its writes together with
 * the checkpoint (exactly-once effect).
 */
export interface Projection {
  /** Stable name, `[a-z][a-z0-9_]*`; used in status, admin routes and lock keys. */
  readonly name: string;
  /** Bump when the read model's shape or rules change: a deploy with a new version rebuilds it. */
  readonly version: number;
  /** Event types this projection reads (stored type names). */
  readonly handles: readonly string[];
  /** Logical names of the tables it owns. */
  readonly tables: readonly string[];
  /**
   * Creates its (empty) tables under the given physical names. Must not give
   * indexes or constraints fixed names: live and shadow tables coexist.
   */
  createTables(sql: Queryable, tables: TableNames): Promise<void>;
  /**
   * Applies events (already upcast and validated, in order) and returns the
   * cache tags whose data changed. `sql` is the projection's lock connection,
   * inside the batch's transaction. Must be deterministic: replays and
   * rebuilds apply the same events again into fresh tables.
   */
  apply(events: RecordedEvent[], sql: Queryable, tables: TableNames): Promise<string[]>;
}

/** What a committed batch changed, for cache invalidation and read-your-writes waiters. */
export interface ProjectionCommit {
  projection: string;
  /** The checkpoint after the commit: the read model reflects every event up to here. */
  position: number;
  tags: string[];
}

/**
 * A failed attempt or a stop, for metrics. `retry`: a failure of the moment (see `isTransient`),
 * tried again with backoff; `stop`: a phase stopped on an error (an event it cannot decode or
 * apply, or a rebuild step that failed for good). `scope` is `rebuild` for a rebuild's own work
 * (preparing, its batches, the switch), `projection` for the rest (live batches, the connection).
 */
export interface ProjectionFault {
  projection: string;
  scope: 'projection' | 'rebuild';
  outcome: 'retry' | 'stop';
  /** SQLSTATE or errno of a retry, error code of a stop; '' when there is none. */
  code: string;
}
