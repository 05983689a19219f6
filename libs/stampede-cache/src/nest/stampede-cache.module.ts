import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { CachedQueryExplorer } from './cached-query.explorer';
import { StampedeCacheInterceptor } from './stampede-cache.interceptor';
import { StampedeCache } from '../core/stampede-cache.service';
import { ConfigurableStampedeCacheModule } from './stampede-cache.module-definition';

/**
 * `StampedeCacheModule.forRoot({ redis: 'redis://...', isGlobal: true })` or
 * `forRootAsync({ imports, inject, useFactory })`. Provides {@link StampedeCache} (the
 * class is the injection token) and {@link StampedeCacheInterceptor}.
 */
@Module({
  imports: [DiscoveryModule],
  providers: [StampedeCache, StampedeCacheInterceptor, CachedQueryExplorer],
  exports: [StampedeCache, StampedeCacheInterceptor],
})
export class StampedeCacheModule extends ConfigurableStampedeCacheModule {}
