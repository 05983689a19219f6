/**
 * Public API of @app/stampede-cache: what an app uses (the module and its options, the
 * cache, keys, cached queries and routes, read-your-writes, the errors it may catch) and the
 * clock it may inject. Everything else is private to the library; test helpers are behind
 * `@app/stampede-cache/testing`.
 */
export { StampedeCacheModule } from './nest/stampede-cache.module';
export type { StampedeCacheModuleOptions } from './core/options';
export { StampedeCache } from './core/stampede-cache.service';
export type { CacheStatus } from './core/cache-result';
export type { CacheClock } from './core/clock';
export { CacheKey, buildCacheKey } from './core/cache-key';
export { StampedeCacheError, CacheFactoryTimeoutError, CacheFactoryFailedError, CacheInvalidationPendingError } from './core/errors';
export { CachedQuery, type CachedQueryHandler } from './nest/cached-query.decorator';
export { CacheRoute } from './nest/cache-route.decorator';
export { StampedeCacheInterceptor } from './nest/stampede-cache.interceptor';
export { CACHE_FRESHNESS_PORT, type CachedRead, type FreshnessPort, type QueryFreshness } from './read-your-writes/freshness';
