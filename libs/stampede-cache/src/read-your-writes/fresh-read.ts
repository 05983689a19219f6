import { CacheFactoryTimeoutError } from '../core/errors';
import type { CacheStatus } from '../core/cache-result';
import type { CachedRead, FreshnessPort, QueryFreshness } from './freshness';

/** What one read through the cache answered. */
export interface CacheAnswer<R> {
  value: R;
  status: CacheStatus;
}

/**
 * The cache as a fresh read uses it, for one query: `@CachedQuery` builds it from the
 * handler's key, tags and options.
 */
export interface QueryCacheAccess<R> {
  /** The key's id, named by a timeout. */
  readonly keyId: string;
  /** The query's `hardTimeout`: how long a fresh read waits when the port sets no `waitBoundMs`. */
  readonly hardTimeoutMs: number;
  /** Reads through the cache: an L1 hit at once (synchronously, no promise), else get-or-compute with the handler's load. */
  read(): CacheAnswer<R> | Promise<CacheAnswer<R>>;
  /**
   * A computation that starts after this call (joined, or queued behind the running one: at
   * most one origin query per key at a time), waited for up to `boundMs` as hard and soft timeout.
   */
  refresh(boundMs: number): Promise<CacheAnswer<R>>;
}

/** Everything one read-your-writes read needs. */
export interface FreshRead<Q, R> {
  freshness: QueryFreshness<Q, R>;
  query: Q;
  /** The app's port; undefined when the app provides none. */
  port: FreshnessPort | undefined;
  /** The handler's own load, around the cache. */
  load: () => Promise<R>;
  /** Undefined when no cache is bound to the handler (built by hand): the read runs uncached. */
  cache: QueryCacheAccess<R> | undefined;
  /** Named by the error when a minimum position meets no port. */
  handler: string;
}

/**
 * Read-your-writes: never answer from a value older than the query's minimum position.
 * First wait (through the port) for the source to reach it; then read through the cache; a
 * value still older is refreshed by a computation that starts after this call, bounded by the
 * port's `waitBoundMs` (else the query's `hardTimeout`). A refresh that fails or runs out of
 * time is the typed timeout, never an uncached load of a failing origin. Only a refreshed value
 * that still reflects an older position (another instance computed it from a lagging source)
 * is read around the cache (`BYPASS`).
 */
export async function freshRead<Q, R>({ freshness, query, port, load, cache, handler }: FreshRead<Q, R>): Promise<CachedRead<R>> {
  const min = freshness.minPosition(query) ?? 0;
  const answer = (value: R, status: CachedRead<R>['cache']): CachedRead<R> => ({
    value,
    cache: status,
    position: freshness.position(value),
  });
  const reflectsMin = (value: R) => (freshness.position(value) ?? 0) >= min;
  if (min > 0) {
    if (!port) throw new Error(`${handler} declares freshness but no FreshnessPort is bound`);
    await port.waitFor(freshness.source, min);
  }
  if (!cache) return answer(await load(), 'BYPASS');
  const first = await cache.read();
  if (reflectsMin(first.value)) return answer(first.value, first.status);
  const bound = port?.waitBoundMs ?? cache.hardTimeoutMs;
  const refreshed = await cache.refresh(bound);
  if (reflectsMin(refreshed.value)) return answer(refreshed.value, 'MISS');
  // The refresh failed or ran out of time (it fell back to the older value): a typed timeout, not a read around a failing origin.
  if (refreshed.status === 'STALE') throw new CacheFactoryTimeoutError(cache.keyId, bound);
  return answer(await load(), 'BYPASS');
}
