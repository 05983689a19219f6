import { Logger } from '@nestjs/common';
import { CacheKey } from '../core/cache-key';
import type { CacheEntryOptions, GetOrComputeOptions } from '../core/options';
import type { HotRead, PreparedCall } from '../core/prepared-call';
import type { StampedeCache } from '../core/stampede-cache.service';
import { freshRead, type CacheAnswer, type QueryCacheAccess } from '../read-your-writes/fresh-read';
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
  /** Read-your-writes (see `read-your-writes/`): wait for the source to reach the query's minimum position, never answer from an older value. */
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
 * {@link CachedRead} (value and cache status). With `freshness`, the read is a
 * read-your-writes read (`read-your-writes/fresh-read.ts`): the result also carries the
 * position it reflects, and a query with a minimum position never gets an older value. Put it
 * on the handler class. The module binds the app's cache to each handler instance at
 * start-up; a handler built by hand runs uncached (warns once). Type the query as
 * `Query<CachedRead<R>>`.
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
  /** Per handler instance (per app): options resolved once, not per query. */
  const prepared = new WeakMap<object, PreparedCall<R>>();
  return async function cached(this: Record<symbol, unknown>, query: Q): Promise<CachedRead<R>> {
    const load = () => execute.call(this, query);
    const binding = this[CACHED_QUERY_BINDING] as CachedQueryBinding | undefined;
    if (!binding && !this[WARNED]) {
      new Logger('CachedQuery').warn(`${this.constructor.name} has no StampedeCache bound: it runs uncached`);
      this[WARNED] = true;
    }
    const read = binding && hotRead(binding.cache, prepared, this, query, options, load);
    if (freshness) {
      const cache = binding && read && queryCache(binding.cache, read, this, options, load);
      return freshRead({ freshness, query, port: binding?.freshness, load, cache, handler: this.constructor.name });
    }
    if (!binding || !read) return { value: await load(), cache: 'BYPASS' };
    // The hot path: a synchronous L1 lookup, no further allocation on a hit.
    const hit = binding.cache.hitL1(read);
    if (hit) return { value: hit.value as R, cache: 'HIT' };
    const { value, status } = await binding.cache.readAfterMiss(read);
    return { value, cache: status };
  };
}

/** One query's read: its key and tags, and the handler's call options prepared once per handler instance (per app). */
function hotRead<Q, R>(
  cache: StampedeCache,
  prepared: WeakMap<object, PreparedCall<R>>,
  handler: object,
  query: Q,
  options: CachedQueryOptions<Q, R>,
  load: () => Promise<R>,
): HotRead<R> {
  let call = prepared.get(handler);
  if (!call) prepared.set(handler, (call = cache.prepare(entryOptions(handler, options))));
  return { key: CacheKey.from(options.key(query)), call, factory: () => load, tags: queryTags(query, options) };
}

/** The cache as a read-your-writes read uses it: through L1 and get-or-compute, or refreshed within a bound. */
function queryCache<Q, R>(
  cache: StampedeCache,
  read: HotRead<R>,
  handler: object,
  options: CachedQueryOptions<Q, R>,
  load: () => Promise<R>,
): QueryCacheAccess<R> {
  // Only a fresh read that found an older value needs these; a hit builds none of them.
  const callOptions = (): GetOrComputeOptions<R> => ({ ...entryOptions(handler, options), tags: read.tags });
  return {
    keyId: read.key.id,
    // Resolved over the module's defaults once, when the handler's call was prepared.
    hardTimeoutMs: read.call.entry.hardTimeout,
    read(): CacheAnswer<R> | Promise<CacheAnswer<R>> {
      const hit = cache.hitL1(read);
      return hit ? { value: hit.value as R, status: 'HIT' } : cache.readAfterMiss(read);
    },
    refresh: (boundMs) =>
      cache.getOrComputeWithStatus<R>(read.key, load, { ...callOptions(), forceRefresh: true, hardTimeout: boundMs, softTimeout: boundMs }),
  };
}

/** The per-handler options of the cache (everything but the per-query key and tags). */
function entryOptions<Q, R>(handler: object, options: CachedQueryOptions<Q, R>): GetOrComputeOptions<R> {
  const { key: _key, tags: _tags, isNegative, freshness: _freshness, cache, entryOptions: dynamic, ...tuning } = options;
  return { ...tuning, ...dynamic?.(handler), cache: cache ?? handler.constructor.name, isNegative };
}

/** The query's tags and its source's (so a rebuilt source drops them); undefined when there are none (nothing to stamp). */
function queryTags<Q, R>(query: Q, options: CachedQueryOptions<Q, R>): string[] | undefined {
  const own = options.tags?.(query);
  const source = options.freshness?.tags;
  if (!source?.length) return own?.length ? own : undefined;
  return own?.length ? [...own, ...source] : source;
}
