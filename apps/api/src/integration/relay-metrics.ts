import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { Counter, Gauge, type Registry } from 'prom-client';
import { METRICS_REGISTRY } from '../metrics/metrics.registry';
import { IntegrationRelay } from './integration-relay';

/**
 * `integration_events_published_total{type}` and `relay_publish_errors_total` (this instance),
 * `relay_lag_events` and `relay_lag_seconds` (from the shared checkpoint at scrape time, so every
 * instance reports them; absent while the database is unreachable). None while the relay is off.
 */
@Injectable()
export class RelayMetrics implements OnModuleInit {
  constructor(
    private readonly integration: IntegrationRelay,
    @Inject(METRICS_REGISTRY) private readonly registry: Registry,
  ) {}

  onModuleInit(): void {
    const relay = this.integration.relay;
    if (!relay) return;
    const registers = [this.registry];
    const published = new Counter({
      name: 'integration_events_published_total',
      help: 'Integration events published to NATS JetStream and acknowledged by the stream, on this instance',
      labelNames: ['type'],
      registers,
    });
    const errors = new Counter({
      name: 'relay_publish_errors_total',
      help: 'Publish batches that failed (NATS unreachable, no ack in time, refused); the relay backs off and resumes',
      registers,
    });
    // Both lag gauges come from one status read per scrape: prom-client collects them together, so they share its promise.
    const read = () => relay.status().catch(() => null);
    let reading: ReturnType<typeof read> | undefined;
    const status = () => (reading ??= read().finally(() => (reading = undefined)));
    new Gauge({
      name: 'relay_lag_events',
      help: 'Positions of the log the relay has not passed yet (head minus checkpoint)',
      registers,
      async collect() {
        this.reset();
        const s = await status();
        if (s) this.set(s.lagPositions);
      },
    });
    new Gauge({
      name: 'relay_lag_seconds',
      help: 'Age of the oldest event of a published type that is not published yet (0 when none waits)',
      registers,
      async collect() {
        this.reset();
        const s = await status();
        if (s) this.set(s.lagSeconds);
      },
    });
    this.integration.onPublished((events) => events.forEach((e) => published.inc({ type: e.type })));
    this.integration.onPublishError(() => errors.inc());
  }
}
