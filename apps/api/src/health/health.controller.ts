import { Controller, Get, HttpCode, Inject, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { EVENT_STORE_HANDLE, hasPendingMigrations, type EventStoreHandle } from '@app/event-store';

/** Liveness (the process answers) and readiness (database reachable, migrations applied). */
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
    const checks: Record<string, string> = {};
    try {
      await this.eventStore.dataSource.query('SELECT 1');
      checks.database = 'up';
      checks.migrations = (await hasPendingMigrations(this.eventStore.dataSource)) ? 'pending' : 'applied';
    } catch (error) {
      checks.database = `down: ${(error as Error).message}`;
    }
    const ok = checks.database === 'up' && checks.migrations === 'applied';
    res.status(ok ? 200 : 503);
    return { status: ok ? 'ok' : 'unavailable', checks };
  }
}
