import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { CqrsModule } from '@nestjs/cqrs';
import { EventStoreModule } from '@app/event-store';
import { StampedeCacheModule } from '@app/stampede-cache';
import { AdminModule } from './admin/admin.module';
import { appEventStore } from './app-event-store';
import { JsonBodyGuard } from './common/json-body.guard';
import { ProblemDetailsFilter } from './common/problem-details.filter';
import { AppConfig } from './config/app-config';
import { HealthModule } from './health/health.module';
import { LeaderboardModule } from './leaderboard/leaderboard.module';
import { MetricsController } from './metrics/metrics.controller';
import { createMetricsRegistry, METRICS_REGISTRY } from './metrics/metrics.registry';
import { ProjectionCacheInvalidation } from './read-side/projection-cache-invalidation';
import { UsersModule } from './users/users.module';

/**
 * The users service. Built from a validated `AppConfig` with a resolved
 * `DATABASE_URL` (main.ts starts the embedded PostgreSQL when none is set).
 * The two libraries meet here: projections of the event store invalidate the cache.
 */
@Module({})
export class AppModule {
  static forRoot(config: AppConfig & { DATABASE_URL: string }): DynamicModule {
    const registry = createMetricsRegistry();
    return {
      module: AppModule,
      imports: [
        CqrsModule.forRoot(),
        EventStoreModule.forRoot({
          url: config.DATABASE_URL,
          schema: config.EVENT_STORE_SCHEMA,
          ...appEventStore,
          runProjections: config.RUN_PROJECTIONS,
          projectionLockTimeoutMs: config.PROJECTION_LOCK_TIMEOUT_MS,
        }),
        StampedeCacheModule.forRoot({
          isGlobal: true,
          redis: config.REDIS_URL,
          namespace: config.CACHE_NAMESPACE,
          registry,
          defaults: { staleTtl: 5 * 60_000, softTimeout: 1000, hardTimeout: 10_000, lockTtl: 15_000 },
        }),
        UsersModule,
        LeaderboardModule,
        AdminModule,
        HealthModule,
      ],
      controllers: [MetricsController],
      providers: [
        { provide: AppConfig, useValue: config },
        { provide: METRICS_REGISTRY, useValue: registry },
        { provide: APP_FILTER, useClass: ProblemDetailsFilter },
        { provide: APP_GUARD, useClass: JsonBodyGuard },
        ProjectionCacheInvalidation,
      ],
      exports: [AppConfig],
      global: true,
    };
  }
}
