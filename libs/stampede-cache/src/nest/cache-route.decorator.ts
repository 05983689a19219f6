import { applyDecorators, SetMetadata, UseInterceptors } from '@nestjs/common';
import { CACHE_ROUTE_METADATA, type CacheRouteOptions } from './cache-route.options';
import { StampedeCacheInterceptor } from './stampede-cache.interceptor';

/**
 * Caches a GET route's JSON result through {@link StampedeCacheInterceptor} (applied by
 * this decorator). Key: method + route path template + path params + the allow-listed,
 * normalised query params — never the raw URL, so unknown params cannot bypass or flood
 * the cache. Sets `X-Cache: HIT|STALE|MISS`.
 */
export function CacheRoute(options: CacheRouteOptions = {}): MethodDecorator & ClassDecorator {
  return applyDecorators(SetMetadata(CACHE_ROUTE_METADATA, options), UseInterceptors(StampedeCacheInterceptor));
}
