import { Controller, Get, HttpCode, Inject, Req, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { EVENT_STORE_HANDLE, type EventStoreHandle } from '@app/event-store';
import { checkAdminToken } from '../common/admin-token.guard';
import type { HttpReply, HttpRequest } from '../common/http-message';
import { AppConfig } from '../config/app-config';
import { IntegrationRelay } from '../integration/integration-relay';
import { AppRedis } from '../redis/app-redis';
import { DownSince, type DownComponent } from './down-since';

/**
 * Liveness (the process answers) and readiness (database reachable, migrations
 * applied). Readiness is `degraded` (still 200) when a projection is stopped on an
 * error or Redis does not answer: writes and reads still work (the cache falls back to
 * memory and the database). Readiness is public (load balancers, orchestrators): it
 * says which component is down and since when, never why. Error text, positions and
 * stream ids (a stream id is a user's id) only go to a caller with the admin token.
 */
@ApiTags('health')
@Controller('health')
export class HealthController {
  /** When each component was first seen down by this instance (projections carry their own time). */
  private readonly downSince = new DownSince(() => new Date());

  constructor(
    @Inject(EVENT_STORE_HANDLE) private readonly eventStore: EventStoreHandle,
    private readonly redis: AppRedis,
    @Inject(AppConfig) private readonly config: AppConfig,
    private readonly integration: IntegrationRelay,
  ) {}

  @Get('live')
  @HttpCode(200)
  live() {
    return { status: 'ok' };
  }

  @Get('ready')
  async ready(@Req() req: HttpRequest, @Res({ passthrough: true }) res: HttpReply) {
    const admin = this.isAdmin(req.headers.authorization);
    const checks: Record<string, unknown> = {};
    const down: DownComponent[] = [];
    let databaseError: string | undefined;
    try {
      await this.eventStore.db.query('SELECT 1');
      checks.database = 'up';
      checks.migrations = (await this.eventStore.pendingMigrations()) ? 'pending' : 'applied';
    } catch (error) {
      checks.database = 'down';
      // Driver messages name hosts, users and schemas: only an admin sees them.
      databaseError = error instanceof Error ? error.message : String(error);
    }
    down.push(...this.downSince.observe('database', checks.database === 'down', databaseError));
    down.push(...this.downSince.observe('migrations', checks.migrations === 'pending'));
    const ok = checks.database === 'up' && checks.migrations === 'applied';
    let degraded = false;
    if (ok && this.eventStore.projections.names().length) {
      const stopped = (await this.eventStore.projections.status()).filter((p) => p.state === 'stopped-on-error');
      checks.projections = stopped.length
        ? stopped.map((p) => ({ name: p.name, state: p.state, since: p.lastError?.at ?? null, ...(admin ? { error: p.lastError } : {}) }))
        : 'running';
      for (const p of stopped) down.push({ component: `projection:${p.name}`, since: p.lastError?.at ?? null, error: p.lastError?.reason });
      degraded = stopped.length > 0;
    }
    if (this.redis.client) {
      // A PING, not the cache's circuit breaker: the breaker only closes again on cache traffic.
      checks.redis = (await this.redis.ping()) ? 'up' : 'degraded';
      degraded ||= checks.redis === 'degraded';
      down.push(...this.downSince.observe('redis', checks.redis === 'degraded'));
    }
    if (ok && this.integration.relay) {
      const relay = await this.relayCheck(admin);
      checks.relay = relay.check;
      degraded ||= relay.degraded;
      down.push(...this.downSince.observe('relay', relay.degraded, relay.error));
    }
    res.status(ok ? 200 : 503);
    const body: Record<string, unknown> = { status: ok ? (degraded ? 'degraded' : 'ok') : 'unavailable', checks };
    if (down.length) body.down = admin ? down : down.map(({ component, since }) => ({ component, since }));
    return body;
  }

  /**
   * The relay never makes the service unready: appends do not depend on NATS. It is `degraded`
   * while this instance's NATS connection is down (once it has connected or tried), or while the
   * relay is stopped on an event it cannot read; `paused` is an operator's choice, not a fault.
   */
  private async relayCheck(admin: boolean): Promise<{ check: unknown; degraded: boolean; error?: string }> {
    const status = await this.integration.relay!.status();
    const nats = this.integration.link?.up ? 'up' : 'down';
    const degraded = nats === 'down' || status.state === 'stopped-on-error';
    const check = {
      state: status.state,
      nats,
      lagEvents: status.lagPositions,
      lagSeconds: Math.round(status.lagSeconds),
      ...(admin ? { retrying: status.retrying, lastError: status.lastError } : {}),
    };
    return { check, degraded, error: status.retrying?.reason ?? status.lastError?.reason };
  }

  /** True for a valid admin token; anything else (none, wrong, admin API off) gets the public answer, never a 401. */
  private isAdmin(authorization: string | undefined): boolean {
    if (!authorization) return false;
    try {
      checkAdminToken(authorization, this.config.ADMIN_TOKEN);
      return true;
    } catch {
      return false;
    }
  }
}
