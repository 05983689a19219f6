import type { CacheKey } from './cache-key';

/*
 * The shapes a caller of the cache sees: what a factory receives and returns, and what a read
 * answers. Apart from the service, so the flights and tracing that produce them need not
 * import the service that runs them.
 */

/** What a factory receives. */
export interface ComputeContext<T = unknown> {
  /** The key being computed. */
  key: CacheKey;
  /** Aborted at `hardTimeout`: pass it to fetch/DB calls so abandoned work stops. */
  signal: AbortSignal;
  /** The value being replaced, if any (useful for incremental recomputation). */
  previous?: T;
}

/** How a value was served: fresh from cache, stale (expired or fail-safe), or after waiting for a computation. */
export type CacheStatus = 'HIT' | 'STALE' | 'MISS';

/** A value plus how it was obtained; `status` is what the interceptor puts in `X-Cache`. */
export interface CacheResult<T> {
  value: T;
  status: CacheStatus;
  /** When the factory that produced the value started (epoch ms). */
  computedAt: number;
  /** Logical expiry of the served entry (epoch ms). */
  expiresAt: number;
  /** The encoded key id. */
  key: string;
}

/** A factory computing the value for a key; see {@link ComputeContext}. */
export type CacheFactory<T> = (context: ComputeContext<T>) => Promise<T>;
