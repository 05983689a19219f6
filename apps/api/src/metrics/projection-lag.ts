import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { Counter, Gauge, type Registry } from 'prom-client';
import { ProjectionsService } from '@app/event-store';
import { METRICS_REGISTRY } from './metrics.registry';

/**
 * `projection_lag_events{projection}`: events committed to the log that a projection has
 * not applied yet (head minus checkpoint), read from the shared checkpoint at scrape
 * time, so every instance reports it, whichever one runs the projection. Absent while
 * the database is unreachable rather than stale. Beside it,
 * `projection_faults_total{projection, scope, outcome, code}`: this instance's failed attempts
 * it retries (`retry`, `code` the SQLSTATE) and the phases it stopped on an error (`stop`).
 */
@Injectable()
export class ProjectionLagMetrics implements OnModuleInit {
  constructor(
    private readonly projections: ProjectionsService,
    @Inject(METRICS_REGISTRY) private readonly registry: Registry,
  ) {}

  onModuleInit(): void {
    const projections = this.projections;
    new Gauge({
      name: 'projection_lag_events',
      help: 'Events in the log not yet applied by the projection (head position minus checkpoint)',
      labelNames: ['projection'],
      registers: [this.registry],
      async collect() {
        this.reset();
        const statuses = await projections.status().catch(() => []);
        for (const s of statuses) this.set({ projection: s.name }, s.lag);
      },
    });
    const faults = new Counter({
      name: 'projection_faults_total',
      help: 'Failed projection attempts retried with backoff (outcome retry) and phases stopped on an error (outcome stop), on this instance',
      labelNames: ['projection', 'scope', 'outcome', 'code'],
      registers: [this.registry],
    });
    this.projections.onFault(({ projection, scope, outcome, code }) => faults.inc({ projection, scope, outcome, code: code || 'none' }));
  }
}
