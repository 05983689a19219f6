import type { CacheEntryOptions } from '../core/options';

/** Options of {@link CacheRoute}. */
export interface CacheRouteOptions extends Pick<CacheEntryOptions, 'ttl' | 'staleTtl' | 'beta' | 'softTimeout' | 'hardTimeout' | 'jitter'> {
  /** Query parameters that are part of the key; all others (nonces, tracking ids) are ignored. Default none. */
  queryParams?: string[];
  /** Tags of the response, for `invalidateTags`; receives the request's path params and allow-listed query. */
  tags?: (request: { params: Record<string, string>; query: Record<string, string | undefined> }) => string[];
  /** Metrics label. Default `'http'`. */
  cache?: string;
}

/** Metadata key of {@link CacheRoute} options. */
export const CACHE_ROUTE_METADATA = 'stampede-cache:cache-route';
