import type { EventLocation } from '../errors';
import type { RetryReport } from './runner/transient';

/** The two phases of a projection: following the log into the live model, or filling a rebuild's shadow model. */
export type ProjectionPhase = 'live' | 'rebuild';

/** What a rebuild was doing when it failed other than on an event: preparing its tables, a batch's I/O, or switching live. */
export type RebuildStep = 'prepare' | 'fill' | 'switch';

/**
 * The error a phase is stopped on. An event's error (decoding, `apply`) names the event; a
 * rebuild that failed in a step of its own (`step`) names only its position, the event fields
 * are then absent.
 */
export interface ProjectionError extends Partial<Omit<EventLocation, 'position'>> {
  position: number;
  code: string;
  reason: string;
  at: string;
  /** Whether it happened while catching up the live model or building the shadow one. */
  phase: ProjectionPhase;
  /** Set when a rebuild failed in this step, not on an event. */
  step?: RebuildStep;
}

/** A rebuild in progress (shadow tables being filled from position 0). */
export interface RebuildState {
  version: number;
  position: number;
  startedAt: string;
  /** Shadow tables exist and are being filled. */
  prepared: boolean;
  /** `stopped` while the rebuild waits on an error (retry, skip or abort it); the live model is not affected. */
  state: 'running' | 'stopped';
  /** The error the rebuild is stopped on. */
  error: ProjectionError | null;
}

/** The last rebuild an operator aborted: a deploy of that same version does not start it again by itself. */
export interface AbortedRebuild {
  version: number;
  position: number;
  at: string;
}

/**
 * An operator's skip of one event, kept as an audit trail. It holds for the phase it was recorded
 * for: a live skip for the live model and every later rebuild, a rebuild skip for that rebuild only.
 */
export interface SkippedEvent {
  position: number;
  at: string;
  error: ProjectionError;
  /** Absent on skips recorded before skips were per phase: then `error.phase` says which. */
  phase?: ProjectionPhase;
  /** The rebuild a rebuild skip belongs to (its version and start). */
  rebuild?: { version: number; startedAt: string };
}

/** The stored row of a projection. `state` and `error` belong to the live phase. */
export interface ProjectionRow {
  name: string;
  version: number;
  position: number;
  state: 'running' | 'stopped';
  error: ProjectionError | null;
  rebuild: RebuildState | null;
  abortedRebuild: AbortedRebuild | null;
  skipped: SkippedEvent[];
  updatedAt: string;
}

/** Progress of a rebuild, derived from positions (the log's positions are the unit of work). */
export interface RebuildProgress {
  eventsPerSecond: number;
  etaSeconds: number | null;
  percent: number;
}

/** Public status of a projection, as the admin API shows it. */
export interface ProjectionStatus {
  name: string;
  /** Version of the live read model. */
  version: number;
  /** Version declared in code; differs from `version` until a rebuild switches. */
  codeVersion: number;
  /** Live checkpoint: the live model reflects every event up to here. */
  checkpoint: number;
  head: number;
  lag: number;
  /**
   * `stopped-on-error`: the live model is stopped (see `lastError`);
   * `rebuild-stopped-on-error`: only the rebuild is stopped (see `rebuild.error`), the live model keeps running.
   */
  state: 'running' | 'rebuilding' | 'stopped-on-error' | 'rebuild-stopped-on-error';
  /** The error the live phase is stopped on. */
  lastError: ProjectionError | null;
  rebuild: (Omit<RebuildState, 'state'> & RebuildProgress & { state: 'running' | 'stopped-on-error' }) | null;
  abortedRebuild: AbortedRebuild | null;
  skipped: SkippedEvent[];
  /**
   * Failures of the moment this instance keeps retrying with backoff, once a streak has
   * `TRANSIENT_REPORT_AFTER` (3) attempts; empty otherwise and on instances not retrying.
   */
  retrying: RetryReport[];
  /** This instance holds the projection's lock and runs it. */
  activeHere: boolean;
}

/**
 * A `projections` row as the driver returns it: bigints as strings, JSONB parsed. Rebuilds
 * recorded before phases had their own state have no `state` or `error`.
 */
export interface StoredProjectionRow {
  name: string;
  version: number;
  position: string;
  state: ProjectionRow['state'];
  error: ProjectionError | null;
  rebuild: (Omit<RebuildState, 'state' | 'error'> & Partial<Pick<RebuildState, 'state' | 'error'>>) | null;
  aborted_rebuild: AbortedRebuild | null;
  skipped: SkippedEvent[];
  updated_at: Date | string;
}

/** Maps a stored row; rebuilds recorded before phases had their own state read as running. */
export function toRow(r: StoredProjectionRow): ProjectionRow {
  return {
    name: r.name,
    version: r.version,
    position: Number(r.position),
    state: r.state,
    error: r.error,
    rebuild: r.rebuild
      ? { ...r.rebuild, position: Number(r.rebuild.position), state: r.rebuild.state ?? 'running', error: r.rebuild.error ?? null }
      : null,
    abortedRebuild: r.aborted_rebuild ?? null,
    skipped: r.skipped,
    updatedAt: new Date(r.updated_at).toISOString(),
  };
}

/**
 * The positions a phase's batches leave out. Live batches honour live skips only: a skip an
 * operator made for a rebuild must never drop the event from the live model (that rebuild may be
 * aborted, and the live rules may apply it fine). A rebuild honours the live skips (the live
 * model it replaces lacks those events too) and the skips made for this very rebuild.
 */
export function skippedPositions(row: ProjectionRow, phase: ProjectionPhase): Set<number> {
  const own = row.rebuild;
  const applies = (k: SkippedEvent): boolean => {
    const recordedFor = k.phase ?? k.error?.phase ?? 'live';
    if (recordedFor === 'live') return true;
    if (phase === 'live' || !own) return false;
    // Rebuild skips recorded before they named their rebuild held for every rebuild: keep that.
    return !k.rebuild || (k.rebuild.version === own.version && k.rebuild.startedAt === own.startedAt);
  };
  return new Set(row.skipped.filter(applies).map((k) => Number(k.position)));
}

/** The phase's checkpoint: the live position, or how far the rebuild has filled its shadow. */
export function positionOf(row: ProjectionRow, phase: ProjectionPhase): number {
  return phase === 'live' ? row.position : (row.rebuild?.position ?? 0);
}
