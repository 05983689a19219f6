/** What an entry says (stale, new enough for a reader, servable) and the entry a successful computation writes. */
import type { ResolvedEntryOptions } from '../core/options';
import type { CacheEntry } from '../stores/cache-store';
import { recomputeDelta } from './xfetch';

/**
 * What an entry's lifetimes depend on: the call's options, whether the value is a negative
 * result, and the entry it replaces (XFetch's delta). A flight's request is one; declared here
 * so this file depends on no flight.
 */
export interface EntryPolicy<T> {
  options: ResolvedEntryOptions;
  isNegative?: (value: T) => boolean;
  previous?: CacheEntry;
}

/** Expired, or a fail-safe write-back: either way not a fresh value. */
export function isStale(entry: CacheEntry, now: number): boolean {
  return entry.failSafe === true || now >= entry.expiresAt;
}

/**
 * Whether the entry's value comes from a computation that started at or after a reader's
 * minimum: by fences (the store's clock, the same for every instance) when `minFence` is
 * known, else (Redis unreachable: local entries only) by this instance's wall clock.
 */
export function newEnough(entry: CacheEntry, minComputedAt: number | undefined, minFence: number | undefined): boolean {
  if (minComputedAt === undefined) return true;
  if (minFence !== undefined) return (entry.valueFence ?? entry.fence) >= minFence;
  return entry.computedAt >= minComputedAt;
}

/** The entry if it may still be served (as stale, at worst). */
export function servable(entry: CacheEntry | undefined, now: number): CacheEntry | undefined {
  return entry && now < entry.staleUntil ? entry : undefined;
}

/** The entry a successful computation writes: XFetch's delta smoothed, ttl jittered, negatives short-lived. */
export function computeEntry<T>(input: {
  request: EntryPolicy<T>;
  value: T;
  /** Wall clock when the factory started: the value's `computedAt`. */
  startedAt: number;
  /** The factory's run time, measured on the monotonic clock (XFetch's delta). */
  durationMs: number;
  /** Wall clock now: expiries count from here. */
  now: number;
  fence: number;
  tags: Record<string, number> | undefined;
  random: () => number;
}): CacheEntry {
  const { request, value, startedAt, durationMs, now: finishedAt, fence, tags } = input;
  const { options } = request;
  const negative = request.isNegative?.(value) === true;
  const ttl = negative ? options.negativeTtl : options.ttl * (1 - options.jitter * input.random());
  return {
    value,
    computedAt: startedAt,
    expiresAt: finishedAt + ttl,
    staleUntil: finishedAt + ttl + (negative ? 0 : options.staleTtl),
    delta: recomputeDelta(request.previous?.delta, durationMs),
    fence,
    ...(tags && { tags }),
    ...(negative && { negative }),
  };
}
