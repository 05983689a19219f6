import { type Clock, systemClock } from './clock';

export interface ProjectionsOptions {
  /** URL for the LISTEN connection and the projections' lock connections (both outside the pool). */
  url: string;
  channel: string;
  /** Events per projection transaction. Default 2000. */
  batchSize?: number;
  /** Longest wait between polls when no NOTIFY arrives, in ms. Default 500. */
  pollMs?: number;
  /** How long a vanished or frozen lock holder keeps a projection before a standby can take it, in ms. Default 10 000. */
  lockTimeoutMs?: number;
  /**
   * The longest a rebuild's switch (and its preparation) waits for a table lock, in ms, before it
   * rolls back and tries again with backoff: reads of the live tables queue behind the switch at
   * most this long, also behind an open reader such as `pg_dump`. Default 500.
   */
  switchLockTimeoutMs?: number;
  /** Time source of the runners' timings; tests pass fake timers' clock. */
  clock?: Clock;
}

export type ResolvedProjectionsOptions = Required<ProjectionsOptions>;

/** Bounds of the projection settings: outside them a runner would stall, thrash or never notice a lost holder. */
export const PROJECTION_LIMITS = {
  batchSize: { min: 1, max: 100_000, default: 2000 },
  pollMs: { min: 1, max: 60_000, default: 500 },
  lockTimeoutMs: { min: 1000, max: 600_000, default: 10_000 },
  switchLockTimeoutMs: { min: 10, max: 60_000, default: 500 },
} as const;

/** Fills defaults and validates; the error names the option and its rule. */
export function resolveProjectionsOptions(
  options: ProjectionsOptions,
  names: Record<keyof typeof PROJECTION_LIMITS, string>,
): ResolvedProjectionsOptions {
  const resolved = { ...options, clock: options.clock ?? systemClock } as ResolvedProjectionsOptions;
  for (const key of Object.keys(PROJECTION_LIMITS) as Array<keyof typeof PROJECTION_LIMITS>) {
    const { min, max, default: fallback } = PROJECTION_LIMITS[key];
    const value = options[key] ?? fallback;
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new Error(`${names[key]} must be an integer from ${min} to ${max}`);
    }
    resolved[key] = value;
  }
  return resolved;
}
