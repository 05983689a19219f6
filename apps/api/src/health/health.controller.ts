import { Controller, Get, HttpCode, Inject, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { EVENT_STORE_HANDLE, hasPendingMigrations, type EventStoreHandle } from '@app/event-store';

/**
 * Liveness (the process answers) and readiness (database reachable,
 * migrations applied). A projection stopped on an error makes readiness
 * `degraded` (still 200: every other read and all writes work) with the error.
 */
@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(@Inject(EVENT_STORE_HANDLE) private readonly eventStore: EventStoreHandle) {}

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
    } catch (error) {
      checks.database = `down: ${(error as Error).message}`;
    }
    const ok = checks.database === 'up' && checks.migrations === 'applied';
    let degraded = false;
    if (ok && this.eventStore.projections.names().length) {
      const stopped = (await this.eventStore.projections.status()).filter((p) => p.state === 'stopped-on-error');
      checks.projections = stopped.length
        ? stopped.map((p) => ({ name: p.name, state: p.state, error: p.lastError }))
        : 'running';
      degraded = stopped.length > 0;
    }
    res.status(ok ? 200 : 503);
    return { status: ok ? (degraded ? 'degraded' : 'ok') : 'unavailable', checks };
  }
}
