import type { CacheKey } from './cache-key';
import type { CacheFactory } from './cache-result';
import type { CacheMetrics, RequestCounts } from './metrics';
import { resolveEntryOptions, type GetOrComputeOptions, type ResolvedEntryOptions } from './options';

/**
 * The options of a get-or-compute call, resolved once: merged over the module's defaults and
 * validated, with the metrics children of its `cache` label bound. The public API prepares
 * one per call; the interceptor and `@CachedQuery` prepare one per route or handler, so a hit
 * repeats none of this work.
 */
export interface PreparedCall<T = unknown> {
  entry: ResolvedEntryOptions;
  label: string;
  counts: RequestCounts;
  isNegative?: (value: T) => boolean;
  forceRefresh: boolean;
  minComputedAt?: number;
}

/** Resolves `options` over `defaults` (validating them) and binds the metrics of their label. */
export function prepareCall<T>(defaults: ResolvedEntryOptions, metrics: CacheMetrics, options: GetOrComputeOptions<T>): PreparedCall<T> {
  const label = options.cache ?? 'default';
  return {
    entry: resolveEntryOptions(defaults, options),
    label,
    counts: metrics.requestCounts(label),
    isNegative: options.isNegative,
    forceRefresh: options.forceRefresh === true,
    minComputedAt: options.minComputedAt,
  };
}

/** What a hot-path caller passes besides its prepared call: the key, how to compute, the per-call tags. */
export interface HotRead<T> {
  key: CacheKey;
  call: PreparedCall<T>;
  /** Builds the factory only when one is needed (a miss or an early refresh): a hit allocates none. */
  factory: () => CacheFactory<T>;
  tags?: string[] | ((value: T) => string[]);
}
