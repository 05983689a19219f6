/**
 * Public API of @app/stampede-cache: what an app uses, plus the documented extension
 * points (options, the clock). Anything not exported here is private to the library.
 */
export { StampedeCacheModule } from './nest/stampede-cache.module';
export { StampedeCache, type CacheFactory, type CacheResult, type CacheStatus } from './core/stampede-cache.service';
export type { ComputeContext } from './flights/compute-flight';
export type { CacheEntryOptions, GetOrComputeOptions, L1Options, StampedeCacheModuleOptions } from './core/options';
export type { CacheClock, CacheTimer } from './core/clock';
export type { CircuitState } from './redis/circuit-breaker';
export { CacheKey, buildCacheKey, type CacheKeyInput } from './core/cache-key';
export {
  StampedeCacheError,
  CacheFactoryTimeoutError,
  CacheFactoryFailedError,
  CacheInvalidationPendingError,
  CacheKeyError,
  CacheOptionsError,
} from './core/errors';
export { CachedQuery, type CachedQueryHandler, type CachedQueryOptions } from './nest/cached-query.decorator';
export { CACHE_FRESHNESS_PORT, type CachedRead, type FreshnessPort, type QueryFreshness } from './read-your-writes/freshness';
export { CacheRoute } from './nest/cache-route.decorator';
export type { CacheRouteOptions } from './nest/cache-route.options';
export { StampedeCacheInterceptor } from './nest/stampede-cache.interceptor';
