import { Logger } from '@nestjs/common';
import type { CacheKey } from '../cache-key';
import type { CacheEntryOptions } from '../options';
import type { StampedeCache } from '../stampede-cache.service';
import { defaultCache } from './default-cache';

/** Options of {@link CachedQuery}. */
export interface CachedQueryOptions<Q = any, R = any> extends Pick<CacheEntryOptions, 'ttl' | 'staleTtl' | 'beta' | 'softTimeout' | 'hardTimeout' | 'jitter'> {
  /** The cache key of a query; must be unique across handlers, e.g. `buildCacheKey('leaderboard', { window: q.window })`. */
  key: (query: Q) => string | CacheKey;
  /** Tags of the result, for `invalidateTags`; called with the computed result. */
  tags?: (query: Q, result?: R) => string[];
  /** Metrics label. Default: the handler's class name. */
  cache?: string;
}

/** Metadata key marking a handler class whose `execute` is cached. */
export const CACHED_QUERY_METADATA = 'stampede-cache:cached-query';
/** Where the module's explorer binds the app's cache onto a handler instance. */
export const BOUND_CACHE = Symbol('stampede-cache:bound-cache');

const logger = new Logger('CachedQuery');
let warnedUnbound = false;

/**
 * Caches a `@nestjs/cqrs` query handler's `execute`, whoever calls it (QueryBus or code).
 * Put it on the class or on the `execute` method. The wrapped `execute` uses the cache
 * the module's explorer bound to the handler instance (correct with several apps per
 * process), else the most recently started `StampedeCache`; with neither, it runs
 * uncached and warns once. Results must be JSON-serialisable when Redis is used.
 */
export function CachedQuery<Q = any, R = any>(options: CachedQueryOptions<Q, R>): ClassDecorator & MethodDecorator {
  return ((target: object, propertyKey?: string | symbol, descriptor?: PropertyDescriptor) => {
    if (propertyKey === undefined) {
      const prototype = (target as { prototype: { execute?: unknown } }).prototype;
      if (typeof prototype.execute !== 'function') throw new TypeError('@CachedQuery needs a class with an execute(query) method');
      prototype.execute = wrapExecute(prototype.execute as (query: Q) => Promise<R>, options);
      Reflect.defineMetadata(CACHED_QUERY_METADATA, options, target);
      return;
    }
    if (!descriptor || typeof descriptor.value !== 'function') throw new TypeError('@CachedQuery can only decorate a method');
    descriptor.value = wrapExecute(descriptor.value as (query: Q) => Promise<R>, options);
    Reflect.defineMetadata(CACHED_QUERY_METADATA, options, (target as object).constructor);
    return descriptor;
  }) as ClassDecorator & MethodDecorator;
}

function wrapExecute<Q, R>(execute: (query: Q) => Promise<R>, options: CachedQueryOptions<Q, R>) {
  return async function cachedExecute(this: Record<symbol, StampedeCache | undefined>, query: Q): Promise<R> {
    const cache = this[BOUND_CACHE] ?? defaultCache.get();
    if (!cache) {
      if (!warnedUnbound) logger.warn('No StampedeCache started: @CachedQuery handlers run uncached');
      warnedUnbound = true;
      return execute.call(this, query);
    }
    const { key, tags, cache: label, ...entryOptions } = options;
    return cache.getOrCompute<R>(key(query), () => execute.call(this, query), {
      ...entryOptions,
      cache: label ?? this.constructor.name,
      tags: tags ? (result: R) => tags(query, result) : undefined,
    });
  };
}
