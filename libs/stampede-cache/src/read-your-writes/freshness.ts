import type { CacheStatus } from '../core/cache-result';

/**
 * The app's answer to "does `source` already reflect `position`?" (for example: has a
 * projection's checkpoint reached a write's log position). The cache library knows
 * nothing of event stores; a query that declares `freshness` gets read-your-writes
 * through this port. Provide it under {@link CACHE_FRESHNESS_PORT}.
 */
export interface FreshnessPort {
  /**
   * Resolves once `source` reflects `position`. Rejects, with the app's own error (for
   * example a 503 with Retry-After), when it cannot within the app's bound.
   */
  waitFor(source: string, position: number): Promise<void>;
  /**
   * How long a read-your-writes reader may wait for a computation that reflects its write
   * (it joins or queues behind the one running, never reads around it). Default: the query's `hardTimeout`.
   */
  readonly waitBoundMs?: number;
}

/** Injection token of the app's {@link FreshnessPort}. */
export const CACHE_FRESHNESS_PORT = Symbol('stampede-cache:freshness-port');

/** What a `@CachedQuery` handler answers through the bus: its value and how it was served. */
export interface CachedRead<T> {
  value: T;
  /** HIT, STALE or MISS from the cache; BYPASS when read around it to honour a minimum position. */
  cache: CacheStatus | 'BYPASS';
  /** The position the value reflects, when the query declares `freshness`. */
  position?: number;
}

/** How a cached query's results relate to positions of a source (read-your-writes). */
export interface QueryFreshness<Q, R> {
  /** The source the port waits on (e.g. a projection's name). */
  source: string;
  /** The position the caller must see (e.g. from an `X-Min-Position` header); undefined or 0 for none. */
  minPosition: (query: Q) => number | undefined;
  /** The position a result reflects. */
  position: (result: R) => number;
  /** Tags every result from this source carries (e.g. one invalidated when the source is rebuilt). */
  tags?: string[];
}
