import { Injectable, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, ModuleRef } from '@nestjs/core';
import { CacheOptionsError } from '../core/errors';
import { StampedeCache } from '../core/stampede-cache.service';
import { CACHED_QUERY_BINDING, CACHED_QUERY_METADATA, type CachedQueryBinding, type CachedQueryOptions } from './cached-query.decorator';
import { CACHE_FRESHNESS_PORT, type FreshnessPort } from '../read-your-writes/freshness';

/**
 * Binds this app's {@link StampedeCache} (and the app's {@link FreshnessPort}, when one is
 * provided) to every `@CachedQuery` handler instance at start-up, before the CQRS module
 * registers handlers on the QueryBus, so handlers use the cache of the app they live in.
 * A handler that declares `freshness` without a port in the app fails start-up.
 */
@Injectable()
export class CachedQueryExplorer implements OnModuleInit {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly moduleRef: ModuleRef,
    private readonly cache: StampedeCache,
  ) {}

  onModuleInit(): void {
    const freshness = this.freshnessPort();
    for (const wrapper of this.discovery.getProviders()) {
      const instance = wrapper.instance as Record<symbol, unknown> | undefined;
      if (!instance || typeof instance !== 'object') continue;
      const options = Reflect.getMetadata(CACHED_QUERY_METADATA, instance.constructor) as CachedQueryOptions | undefined;
      if (!options) continue;
      if (options.freshness && !freshness) {
        throw new CacheOptionsError(`${instance.constructor.name} declares freshness but the app provides no CACHE_FRESHNESS_PORT`);
      }
      const binding: CachedQueryBinding = { cache: this.cache, freshness };
      Object.defineProperty(instance, CACHED_QUERY_BINDING, { value: binding, configurable: true });
    }
  }

  private freshnessPort(): FreshnessPort | undefined {
    try {
      return this.moduleRef.get<FreshnessPort>(CACHE_FRESHNESS_PORT, { strict: false });
    } catch {
      return undefined;
    }
  }
}
