import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { CqrsModule } from '@nestjs/cqrs';
import { LoggerModule } from 'nestjs-pino';
import { EventStoreModule } from '@app/event-store';
import { CACHE_FRESHNESS_PORT, StampedeCacheModule } from '@app/stampede-cache';
import { AdminModule } from './admin/admin.module';
import { AuthModule } from './auth/auth.module';
import { appEventStore } from './app-event-store';
import { JsonBodyGuard } from './common/json-body.guard';
import { ProblemDetailsFilter } from './common/problem-details.filter';
import { AppConfig } from './config/app-config';
import { HealthModule } from './health/health.module';
import { IdempotencyModule } from './idempotency/idempotency.module';
import { IntegrationModule } from './integration/integration.module';
import { RelayMetrics } from './integration/relay-metrics';
import { LeaderboardModule } from './leaderboard/leaderboard.module';
import { MetricsController } from './metrics/metrics.controller';
import { ProjectionLagMetrics } from './metrics/projection-lag';
import { SnapshotFaultMetrics } from './metrics/snapshot-faults';
import { RateLimitModule } from './rate-limit/rate-limit.module';
import { AppRedis } from './redis/app-redis';
import { createMetricsRegistry, METRICS_REGISTRY } from './metrics/metrics.registry';
import { ProjectionCacheInvalidation } from './read-side/projection-cache-invalidation';
import { ProjectionFreshness } from './read-side/projection-freshness';
import { userSnapshot } from './users/user.snapshot';
import { UsersModule } from './users/users.module';
import { loggerParams, type LogOutput } from './observability/logging';
import { TracingFlush } from './observability/tracing-flush';
import { RELAY_AROUND_PUBLISH } from './integration/integration-relay';
import { relayPublishSpan } from './integration/relay-tracing';

/** The app never stores personal data unencrypted: building it without a master key is a mistake. */
function requireMasterKey(config: AppConfig): string {
  if (!config.PII_MASTER_KEY) throw new Error('PII_MASTER_KEY must be resolved before the app is built (see resolvePiiMasterKey)');
  return config.PII_MASTER_KEY;
}

/**
 * The users service. Built from a validated `AppConfig` with a resolved
 * `DATABASE_URL` (main.ts starts the embedded PostgreSQL when none is set).
 * The two libraries meet here: projections of the event store invalidate the cache, and
 * cached queries wait on projection checkpoints (read-your-writes).
 */
@Module({})
export class AppModule {
  static forRoot(config: AppConfig & { DATABASE_URL: string }, log: LogOutput = {}): DynamicModule {
    const registry = createMetricsRegistry();
    return {
      module: AppModule,
      imports: [
        LoggerModule.forRoot(loggerParams(config, log)),
        CqrsModule.forRoot(),
        EventStoreModule.forRoot({
          url: config.DATABASE_URL,
          schema: config.EVENT_STORE_SCHEMA,
          ...appEventStore,
          runProjections: config.RUN_PROJECTIONS,
          statementTimeoutMs: config.DATABASE_STATEMENT_TIMEOUT_MS,
          idleInTransactionTimeoutMs: config.DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS,
          projectionLockTimeoutMs: config.PROJECTION_LOCK_TIMEOUT_MS,
          snapshots: [userSnapshot({ every: config.SNAPSHOT_EVERY })],
          personalData: { masterKey: requireMasterKey(config) },
        }),
        StampedeCacheModule.forRoot({
          isGlobal: true,
          redis: config.REDIS_URL,
          namespace: config.CACHE_NAMESPACE,
          registry,
          defaults: { staleTtl: 5 * 60_000, softTimeout: 1000, hardTimeout: 10_000 },
        }),
        IdempotencyModule,
        AuthModule,
        UsersModule,
        LeaderboardModule,
        AdminModule,
        HealthModule,
        IntegrationModule,
        RateLimitModule.forRoot(config),
      ],
      controllers: config.METRICS_ACCESS === 'off' ? [] : [MetricsController],
      providers: [
        { provide: AppConfig, useValue: config },
        { provide: METRICS_REGISTRY, useValue: registry },
        { provide: APP_FILTER, useClass: ProblemDetailsFilter },
        { provide: APP_GUARD, useClass: JsonBodyGuard },
        ProjectionCacheInvalidation,
        // Read-your-writes of cached queries: the cache waits on projection checkpoints through this port.
        { provide: CACHE_FRESHNESS_PORT, useClass: ProjectionFreshness },
        AppRedis,
        ProjectionLagMetrics,
        RelayMetrics,
        SnapshotFaultMetrics,
        TracingFlush,
        { provide: RELAY_AROUND_PUBLISH, useValue: relayPublishSpan },
      ],
      exports: [AppConfig, AppRedis, RELAY_AROUND_PUBLISH],
      global: true,
    };
  }
}
