import { Injectable, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, ModuleRef } from '@nestjs/core';
import { StampedeCache } from '../core/stampede-cache.service';
import { CACHED_QUERY_BINDING, CACHED_QUERY_METADATA, type CachedQueryBinding, type CachedQueryOptions } from './cached-query.decorator';
import { findFreshnessPort, requirePortFor } from '../read-your-writes/find-freshness-port';

/**
 * Binds this app's {@link StampedeCache} (and the app's read-your-writes port, when one is
 * provided: see `read-your-writes/find-freshness-port.ts`) to every `@CachedQuery` handler instance at start-up, before the CQRS module
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
    const freshness = findFreshnessPort(this.moduleRef);
    for (const wrapper of this.discovery.getProviders()) {
      const instance = wrapper.instance as Record<symbol, unknown> | undefined;
      if (!instance || typeof instance !== 'object') continue;
      const options = Reflect.getMetadata(CACHED_QUERY_METADATA, instance.constructor) as CachedQueryOptions | undefined;
      if (!options) continue;
      requirePortFor(instance.constructor.name, options.freshness, freshness);
      const binding: CachedQueryBinding = { cache: this.cache, freshness };
      Object.defineProperty(instance, CACHED_QUERY_BINDING, { value: binding, configurable: true });
    }
  }
}
