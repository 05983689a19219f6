import { Injectable, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { StampedeCache } from '../stampede-cache.service';
import { BOUND_CACHE, CACHED_QUERY_METADATA } from './cached-query.decorator';

/**
 * Binds this app's {@link StampedeCache} to every `@CachedQuery` handler instance at
 * start-up, so handlers use the cache of the app they live in rather than a process-wide
 * default. Runs before the CQRS module registers handlers on the QueryBus (bootstrap).
 */
@Injectable()
export class CachedQueryExplorer implements OnModuleInit {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly cache: StampedeCache,
  ) {}

  onModuleInit(): void {
    for (const wrapper of this.discovery.getProviders()) {
      const instance = wrapper.instance as Record<symbol, unknown> | undefined;
      if (!instance || typeof instance !== 'object') continue;
      if (!Reflect.getMetadata(CACHED_QUERY_METADATA, instance.constructor)) continue;
      Object.defineProperty(instance, BOUND_CACHE, { value: this.cache, configurable: true });
    }
  }
}
