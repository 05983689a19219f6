import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';
import { AppConfig } from '../config/app-config';

/** Longest a rate-limit check or a readiness ping waits for Redis before carrying on without it. */
export const APP_REDIS_TIMEOUT_MS = 250;

/**
 * The app's own Redis connection (the cache library keeps its own): write rate limiting
 * and the readiness probe. Built never to make a request wait on a Redis that is down:
 * no offline queue (a command fails at once while disconnected) and a command timeout.
 * `client` is undefined without REDIS_URL.
 */
@Injectable()
export class AppRedis implements OnApplicationShutdown {
  readonly client?: Redis;
  private readonly logger = new Logger('AppRedis');
  private lastErrorLog = 0;

  constructor(@Inject(AppConfig) config: AppConfig) {
    if (!config.REDIS_URL) return;
    this.client = new Redis(config.REDIS_URL, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: APP_REDIS_TIMEOUT_MS,
      connectTimeout: 2000,
      retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
    });
    this.client.on('error', (e: Error) => {
      // One line per 30 s: a Redis outage is expected to be survived, not to flood the log.
      if (Date.now() - this.lastErrorLog < 30_000) return;
      this.lastErrorLog = Date.now();
      this.logger.warn(`Redis unavailable (${e.message}); rate limiting fails open, readiness says degraded`);
    });
  }

  /** True when Redis answers a PING within the timeout. */
  async ping(): Promise<boolean> {
    if (!this.client) return false;
    return this.client.ping().then(
      () => true,
      () => false,
    );
  }

  onApplicationShutdown(): void {
    this.client?.disconnect();
  }
}
