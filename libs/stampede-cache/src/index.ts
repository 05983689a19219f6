/**
 * Public API of @app/stampede-cache: what an app uses, plus the documented extension
 * points (options, the clock). Anything not exported here is private to the library.
 */
export { StampedeCacheModule } from './stampede-cache.module';
export { StampedeCache, type CacheFactory, type CacheResult, type CacheStatus } from './stampede-cache.service';
export type { ComputeContext } from './compute-flight';
export type { CacheEntryOptions, GetOrComputeOptions, L1Options, StampedeCacheModuleOptions } from './options';
export type { CacheClock, CacheTimer } from './clock';
export type { CircuitState } from './circuit-breaker';
export { CacheKey, buildCacheKey, type CacheKeyInput } from './cache-key';
export {
  StampedeCacheError,
  CacheFactoryTimeoutError,
  CacheFactoryFailedError,
  CacheInvalidationPendingError,
  CacheKeyError,
  CacheOptionsError,
} from './errors';
export { CachedQuery, type CachedQueryHandler, type CachedQueryOptions } from './nest/cached-query.decorator';
export { CACHE_FRESHNESS_PORT, type CachedRead, type FreshnessPort, type QueryFreshness } from './nest/freshness';
export { CacheRoute } from './nest/cache-route.decorator';
export type { CacheRouteOptions } from './nest/cache-route.options';
export { StampedeCacheInterceptor } from './nest/stampede-cache.interceptor';
