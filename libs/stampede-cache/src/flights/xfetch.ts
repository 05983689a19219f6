/**
 * XFetch: probabilistic early recomputation (Vattani, Chierichetti, Lowenstein,
 * "Optimal Probabilistic Cache Stampede Prevention", VLDB 2015).
 *
 * Every reader of a still-fresh entry draws `rand` uniformly from (0, 1] and refreshes
 * early iff `now - delta * beta * ln(rand) >= expiry`. Because `-ln(rand)` is
 * exponentially distributed, the chance of refreshing grows as expiry approaches and
 * scales with `delta` (how long a recompute takes): expensive values start refreshing
 * earlier, and typically exactly one reader does it. Pure functions only, so tests can
 * be exact.
 */

/** Inputs of one XFetch decision; all times in milliseconds. */
export interface XFetchInput {
  /** The reader's clock reading. */
  nowMs: number;
  /** The entry's logical expiry. */
  expiresAtMs: number;
  /** Measured (smoothed) recompute time of the entry. */
  deltaMs: number;
  /** Eagerness; 1 is the paper's optimum, > 1 refreshes earlier, < 1 later. */
  beta: number;
  /** A uniform random number in (0, 1]; 0 means "infinitely early" and always refreshes. */
  random: number;
}

/**
 * How far before expiry this draw would trigger a refresh: `-delta * beta * ln(random)`.
 * Exposed so tests and benchmarks can reason about the lead time directly.
 */
export function xfetchRefreshLead(deltaMs: number, beta: number, random: number): number {
  if (deltaMs <= 0 || beta <= 0) return 0;
  return -deltaMs * beta * Math.log(random);
}

/** The XFetch decision: true when this reader should recompute now (early or because expired). */
export function xfetchShouldRefresh(input: XFetchInput): boolean {
  if (input.nowMs >= input.expiresAtMs) return true;
  return input.nowMs + xfetchRefreshLead(input.deltaMs, input.beta, input.random) >= input.expiresAtMs;
}

/** Weight of the newest measurement in {@link recomputeDelta}. */
export const DELTA_SMOOTHING = 0.3;

/**
 * Smooths the recompute time across refreshes with an exponentially weighted moving
 * average, so one slow (or cached-downstream, fast) recompute does not swing the
 * early-refresh window.
 */
export function recomputeDelta(previousMs: number | undefined, measuredMs: number, weight = DELTA_SMOOTHING): number {
  const measured = Math.max(0, measuredMs);
  if (previousMs === undefined || !Number.isFinite(previousMs)) return measured;
  return previousMs + weight * (measured - previousMs);
}
