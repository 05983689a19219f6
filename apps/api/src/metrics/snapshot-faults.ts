import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { Counter, type Registry } from 'prom-client';
import { SnapshotStore } from '@app/event-store';
import { METRICS_REGISTRY } from './metrics.registry';

/**
 * `snapshot_faults_total{aggregate, operation}`: snapshots this instance could not read (the
 * load replayed in full) or write (skipped; the next load tries again). Neither fails a
 * command; a steady rate of `read` means full replays on every load of those aggregates.
 */
@Injectable()
export class SnapshotFaultMetrics implements OnModuleInit {
  constructor(
    private readonly snapshots: SnapshotStore,
    @Inject(METRICS_REGISTRY) private readonly registry: Registry,
  ) {}

  onModuleInit(): void {
    const faults = new Counter({
      name: 'snapshot_faults_total',
      help: 'Aggregate snapshots that could not be read (full replay instead) or written (skipped), on this instance',
      labelNames: ['aggregate', 'operation'],
      registers: [this.registry],
    });
    for (const operation of ['read', 'write']) for (const aggregate of ['User']) faults.inc({ aggregate, operation }, 0);
    this.snapshots.onFault(({ name, operation }) => faults.inc({ aggregate: name, operation }));
  }
}
