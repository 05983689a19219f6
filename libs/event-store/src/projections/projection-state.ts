import type { EventLocation } from '../errors';

/** The error a projection is stopped on. */
export interface ProjectionError extends EventLocation {
  code: string;
  reason: string;
  at: string;
  /** Whether it happened while catching up the live model or building the shadow one. */
  phase: 'live' | 'rebuild';
}

/** A rebuild in progress (shadow tables being filled from position 0). */
export interface RebuildState {
  version: number;
  position: number;
  startedAt: string;
  /** Shadow tables exist and are being filled. */
  prepared: boolean;
}

/** The stored row of a projection. */
export interface ProjectionRow {
  name: string;
  version: number;
  position: number;
  state: 'running' | 'stopped';
  error: ProjectionError | null;
  rebuild: RebuildState | null;
  skipped: Array<{ position: number; at: string; error: ProjectionError }>;
  updatedAt: string;
}

/** Public status of a projection, as the admin API shows it. */
export interface ProjectionStatus {
  name: string;
  /** Version of the live read model. */
  version: number;
  /** Version declared in code; differs from `version` until a rebuild switches. */
  codeVersion: number;
  checkpoint: number;
  head: number;
  lag: number;
  state: 'running' | 'rebuilding' | 'stopped-on-error';
  lastError: ProjectionError | null;
  rebuild: (RebuildState & { eventsPerSecond: number; etaSeconds: number | null; percent: number }) | null;
  skipped: ProjectionRow['skipped'];
  /** This instance holds the projection's lock and runs it. */
  activeHere: boolean;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function toRow(r: any): ProjectionRow {
  return {
    name: r.name,
    version: r.version,
    position: Number(r.position),
    state: r.state,
    error: r.error,
    rebuild: r.rebuild,
    skipped: r.skipped,
    updatedAt: new Date(r.updated_at).toISOString(),
  };
}
