import { Controller, Get, HttpCode, Inject, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { EVENT_STORE_HANDLE, hasPendingMigrations, type EventStoreHandle } from '@app/event-store';
import { AppRedis } from '../redis/app-redis';

/**
 * Liveness (the process answers) and readiness (database reachable, migrations
 * applied). Readiness is `degraded` (still 200) when a projection is stopped on an
 * error or Redis does not answer: writes and reads still work (the cache falls back to
 * memory and the database). Failures are reported without driver text.
 */
@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    @Inject(EVENT_STORE_HANDLE) private readonly eventStore: EventStoreHandle,
    private readonly redis: AppRedis,
  ) {}

  @Get('live')
  @HttpCode(200)
  live() {
    return { status: 'ok' };
  }

  @Get('ready')
  async ready(@Res({ passthrough: true }) res: Response) {
    const checks: Record<string, unknown> = {};
    try {
      await this.eventStore.dataSource.query('SELECT 1');
      checks.database = 'up';
      checks.migrations = (await hasPendingMigrations(this.eventStore.dataSource)) ? 'pending' : 'applied';
    } catch {
      // Driver messages name hosts, users and schemas: readiness is public, so it says only "down".
      checks.database = 'down';
    }
    const ok = checks.database === 'up' && checks.migrations === 'applied';
    let degraded = false;
    if (ok && this.eventStore.projections.names().length) {
      const stopped = (await this.eventStore.projections.status()).filter((p) => p.state === 'stopped-on-error');
      checks.projections = stopped.length ? stopped.map((p) => ({ name: p.name, state: p.state, error: p.lastError })) : 'running';
      degraded = stopped.length > 0;
    }
    if (this.redis.client) {
      // A PING, not the cache's circuit breaker: the breaker only closes again on cache traffic.
      checks.redis = (await this.redis.ping()) ? 'up' : 'degraded';
      degraded ||= checks.redis === 'degraded';
    }
    res.status(ok ? 200 : 503);
    return { status: ok ? (degraded ? 'degraded' : 'ok') : 'unavailable', checks };
  }
}
