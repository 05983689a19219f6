/** Public API of @app/stampede-cache. Anything not exported here is private to the library. */
export { StampedeCacheModule } from './stampede-cache.module';
export { STAMPEDE_CACHE_OPTIONS } from './stampede-cache.module-definition';
export { StampedeCache, type CacheFactory, type CacheResult, type CacheStatus } from './stampede-cache.service';
export type { ComputeContext } from './compute-flight';
export { DEFAULT_ENTRY_OPTIONS, type CacheEntryOptions, type GetOrComputeOptions, type StampedeCacheModuleOptions } from './options';
export { CacheKey, buildCacheKey, type CacheKeyInput } from './cache-key';
export { xfetchShouldRefresh, xfetchRefreshLead, recomputeDelta, DELTA_SMOOTHING, type XFetchInput } from './xfetch';
export { StampedeCacheError, CacheFactoryTimeoutError, CacheFactoryFailedError, CacheKeyError, CacheOptionsError } from './errors';
export type { CacheEntry, CacheStore, LockAttempt } from './stores/cache-store';
export { MemoryStore } from './stores/memory.store';
export { RedisStore } from './stores/redis.store';
export type { CircuitState } from './circuit-breaker';
export type { RequestResult } from './metrics';
export { CachedQuery, type CachedQueryOptions } from './nest/cached-query.decorator';
export { CacheRoute } from './nest/cache-route.decorator';
export type { CacheRouteOptions } from './nest/cache-route.options';
export { StampedeCacheInterceptor } from './nest/stampede-cache.interceptor';
