import { DynamicModule, Logger, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerModule, ThrottlerStorageService } from '@nestjs/throttler';
import { AppConfig } from '../config/app-config';
import { AppRedis } from '../redis/app-redis';
import { RedisThrottlerStorage } from './redis-throttler.storage';
import { WriteThrottlerGuard } from './write-throttler.guard';

/**
 * The write rate limit (`WRITE_RATE_LIMIT` writes per `WRITE_RATE_LIMIT_WINDOW_MS` per
 * client IP), counted in Redis so it holds across instances; off when the limit is 0.
 * Without REDIS_URL each instance counts on its own.
 */
@Module({})
export class RateLimitModule {
  static forRoot(config: AppConfig): DynamicModule {
    if (config.WRITE_RATE_LIMIT === 0) return { module: RateLimitModule };
    return {
      module: RateLimitModule,
      imports: [
        ThrottlerModule.forRootAsync({
          inject: [AppRedis],
          useFactory: (redis: AppRedis) => {
            if (!redis.client) new Logger('RateLimit').warn('No REDIS_URL: the write rate limit is counted per instance');
            return {
              throttlers: [{ limit: config.WRITE_RATE_LIMIT, ttl: config.WRITE_RATE_LIMIT_WINDOW_MS }],
              storage: redis.client
                ? new RedisThrottlerStorage(redis.client, `${config.CACHE_NAMESPACE}:rate-limit:`)
                : new ThrottlerStorageService(),
            };
          },
        }),
      ],
      providers: [{ provide: APP_GUARD, useClass: WriteThrottlerGuard }],
    };
  }
}
