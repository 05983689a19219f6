import { Logger } from '@nestjs/common';
import { CacheKey } from '../core/cache-key';
import { CacheFactoryTimeoutError } from '../core/errors';
import type { CacheEntryOptions, GetOrComputeOptions } from '../core/options';
import type { PreparedCall } from '../core/prepared-call';
import type { StampedeCache } from '../core/stampede-cache.service';
import type { CachedRead, FreshnessPort, QueryFreshness } from '../read-your-writes/freshness';

/** Options of {@link CachedQuery}. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- as on CachedQuery below
export interface CachedQueryOptions<Q = any, R = any, H = any> extends Pick<
  CacheEntryOptions,
  'ttl' | 'staleTtl' | 'beta' | 'softTimeout' | 'hardTimeout' | 'jitter' | 'negativeTtl'
> {
  /** The cache key of a query; must be unique across handlers, e.g. `buildCacheKey('leaderboard', { window: q.window })`. */
  key: (query: Q) => string | CacheKey;
  /** Tags of the query's result, for `invalidateTags`; known before computing, so an invalidation during it always wins. */
  tags?: (query: Q) => string[];
  /** Marks a negative result (e.g. a missing row): cached for `negativeTtl`, bounded apart in L1. */
  isNegative?: (result: R) => boolean;
  /** Read-your-writes: wait for the source to reach the query's minimum position, never answer from an older value. */
  freshness?: QueryFreshness<Q, R>;
  /** Metrics label. Default: the handler's class name. */
  cache?: string;
  /** Entry options that depend on the handler instance (e.g. a ttl from its injected configuration); override the static ones. */
  entryOptions?: (handler: H) => CacheEntryOptions;
}

/**
 * The shape of a `@CachedQuery` handler: its `execute` only loads (returns `R`); through
 * the decorator, whoever calls it gets a {@link CachedRead} of `R`. Use it instead of
 * cqrs's `IQueryHandler`, which would expect `execute` itself to return the query's result type.
 */
export interface CachedQueryHandler<Q, R> {
  execute(query: Q): Promise<R>;
}

/** Metadata key marking a handler class whose `execute` is cached. */
export const CACHED_QUERY_METADATA = 'stampede-cache:cached-query';

/** What the module's explorer binds onto each decorated handler instance. */
export interface CachedQueryBinding {
  cache: StampedeCache;
  freshness?: FreshnessPort;
}

/** Where the explorer puts the binding. */
export const CACHED_QUERY_BINDING = Symbol('stampede-cache:binding');
const WARNED = Symbol('stampede-cache:warned-unbound');

/**
 * Caches a `@nestjs/cqrs` query handler at the query bus: the decorated `execute` only
 * loads from the read model, and whoever calls it (QueryBus or code) gets a
 * {@link CachedRead} (value, cache status, position). With `freshness`, a query with a
 * minimum position first waits (through the app's {@link FreshnessPort}) for the source to
 * reach it, then never answers from an older cached value: it refreshes, or reads around
 * the cache (`BYPASS`). Put it on the handler class. The module binds the app's cache to
 * each handler instance at start-up; a handler built by hand runs uncached (warns once).
 * Type the query as `Query<CachedRead<R>>`.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- untyped use (`key: (q) => ... q.window`) must compile: Q is not inferable
export function CachedQuery<Q = any, R = any, H = any>(options: CachedQueryOptions<Q, R, H>): ClassDecorator {
  return (target: { prototype: { execute?: unknown } }) => {
    const execute = target.prototype.execute;
    if (typeof execute !== 'function') throw new TypeError('@CachedQuery needs a class with an execute(query) method');
    target.prototype.execute = cachedExecute(execute as (query: Q) => Promise<R>, options);
    Reflect.defineMetadata(CACHED_QUERY_METADATA, options, target);
  };
}

function cachedExecute<Q, R>(execute: (query: Q) => Promise<R>, options: CachedQueryOptions<Q, R>) {
  const { freshness } = options;
  const positionOf = (value: R) => freshness?.position(value);
  /** Per handler instance (per app): options resolved once, not per query. */
  const prepared = new WeakMap<object, PreparedCall<R>>();
  return async function cached(this: Record<symbol, unknown>, query: Q): Promise<CachedRead<R>> {
    const load = () => execute.call(this, query);
    const binding = this[CACHED_QUERY_BINDING] as CachedQueryBinding | undefined;
    const min = freshness?.minPosition(query) ?? 0;
    if (freshness && min > 0) {
      if (!binding?.freshness) throw new Error(`${this.constructor.name} declares freshness but no FreshnessPort is bound`);
      await binding.freshness.waitFor(freshness.source, min);
    }
    if (!binding) {
      if (!this[WARNED]) new Logger('CachedQuery').warn(`${this.constructor.name} has no StampedeCache bound: it runs uncached`);
      this[WARNED] = true;
      const value = await load();
      return { value, cache: 'BYPASS', position: positionOf(value) };
    }
    let call = prepared.get(this);
    if (!call) prepared.set(this, (call = binding.cache.prepare(entryOptions(this, options))));
    const key = CacheKey.from(options.key(query));
    const read = { key, call, factory: () => load, tags: queryTags(query, options) };
    const hit = binding.cache.hitL1(read);
    const first = hit ? { value: hit.value as R, status: 'HIT' as const } : await binding.cache.read(read);
    if ((positionOf(first.value) ?? 0) >= min) return { value: first.value, cache: first.status, position: positionOf(first.value) };
    // Older than the caller's write: a computation that starts after this call (joined, or queued behind the running
    // one: at most one origin query per key at a time), waited for up to the port's bound, never past a soft timeout.
    const callOptions = { ...entryOptions(this, options), tags: read.tags };
    const bound = binding.freshness?.waitBoundMs ?? callOptions.hardTimeout ?? binding.cache.defaultHardTimeout;
    const refreshed = await binding.cache.getOrComputeWithStatus<R>(key, load, {
      ...callOptions,
      forceRefresh: true,
      hardTimeout: bound,
      softTimeout: bound,
    });
    if ((positionOf(refreshed.value) ?? 0) >= min) return { value: refreshed.value, cache: 'MISS', position: positionOf(refreshed.value) };
    // The refresh failed or ran out of time: the typed timeout (503), not an uncached load of a failing origin.
    if (refreshed.status === 'STALE') throw new CacheFactoryTimeoutError(key.id, bound);
    // A value another instance computed from an older read model: read around the cache (rare).
    const direct = await load();
    return { value: direct, cache: 'BYPASS', position: positionOf(direct) };
  };
}

/** The per-handler options of the cache (everything but the per-query key and tags). */
function entryOptions<Q, R>(handler: object, options: CachedQueryOptions<Q, R>): GetOrComputeOptions<R> {
  const { key: _key, tags: _tags, isNegative, freshness: _freshness, cache, entryOptions: dynamic, ...tuning } = options;
  return { ...tuning, ...dynamic?.(handler), cache: cache ?? handler.constructor.name, isNegative };
}

/** The query's tags and its source's; undefined when there are none (nothing to stamp). */
function queryTags<Q, R>(query: Q, options: CachedQueryOptions<Q, R>): string[] | undefined {
  const own = options.tags?.(query);
  const source = options.freshness?.tags;
  if (!source?.length) return own?.length ? own : undefined;
  return own?.length ? [...own, ...source] : source;
}
