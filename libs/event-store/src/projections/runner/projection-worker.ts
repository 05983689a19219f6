import type { EventStore } from '../../postgres/postgres-event-store';
import type { Queryable } from '../../postgres/queryable';
import { BatchApplier, inTransaction } from './batch-applier';
import { BatchFeed, settledBatchReader } from './batch-feed';
import type { Clock } from '../clock';
import type { Projection, ProjectionCommit, ProjectionFault } from '../projection';
import type { ProjectionRow } from '../projection-state';
import type { ProjectionStateStore } from '../projection-state-store';
import { ProjectionRebuild } from './projection-rebuild';
import type { ProjectionWork, StepOutcome } from './projection-runner';
import { planStep, standByMessage } from './step-plan';
import { tableNamesOf } from '../table-names';

export interface WorkerOptions {
  store: EventStore;
  /** Pooled connections, for what is done without the lock. */
  pool: Queryable;
  states: ProjectionStateStore;
  batchSize: number;
  onCommit: (commit: ProjectionCommit) => void;
  onProgress?: (row: ProjectionRow, head: number) => void;
  onFault?: (fault: ProjectionFault) => void;
  clock: Clock;
  pollMs: number;
  /** Bound of every lock wait of a rebuild's preparation and switch. */
  switchLockTimeoutMs: number;
}

/**
 * The work of one projection while this instance holds its lock: each step
 * reads the row, plans from it (see `planStep`), then applies the next live
 * batch and the next rebuild batch. The two phases have separate feeds,
 * batch sizes and stop states.
 */
export class ProjectionWorker implements ProjectionWork {
  private readonly live: BatchApplier;
  readonly rebuild: ProjectionRebuild;

  constructor(
    readonly projection: Projection,
    private readonly o: WorkerOptions,
  ) {
    const feed = () => new BatchFeed(settledBatchReader(o.store, projection.handles));
    this.live = new BatchApplier({
      projection,
      phase: 'live',
      states: o.states,
      feed: feed(),
      batchSize: o.batchSize,
      tables: tableNamesOf(o.store.schema, projection.tables, 'live'),
      onCommit: o.onCommit,
      onFault: o.onFault,
    });
    this.rebuild = new ProjectionRebuild({
      projection,
      schema: o.store.schema,
      states: o.states,
      feed: feed(),
      batchSize: o.batchSize,
      onCommit: o.onCommit,
      clock: o.clock,
      pollMs: o.pollMs,
      lockTimeoutMs: o.switchLockTimeoutMs,
      onFault: o.onFault,
    });
  }

  /** Creates the row and the live tables on the projection's first run. */
  async onAcquired(sql: Queryable): Promise<void> {
    const { name, version, tables } = this.projection;
    await inTransaction(sql, async () => {
      if (await this.o.states.insertIfMissing(sql, name, version)) {
        await this.projection.createTables(sql, tableNamesOf(this.o.store.schema, tables, 'live'));
      }
    });
  }

  /**
   * A newer deploy schedules its rebuild while another instance holds the
   * lock (the update is a compare-and-set on versions, no lock needed): the
   * older holder then sees newer code at work and stands by, so an instance
   * with this code gets the lock. A no-op (one primary-key lookup) otherwise.
   */
  async standingBy(): Promise<void> {
    await this.o.states.scheduleNewerRebuild(this.o.pool, this.projection.name, this.projection.version);
  }

  onReleased(): void {
    this.live.reset();
    this.rebuild.reset();
  }

  async step(sql: Queryable): Promise<StepOutcome> {
    const { name, version: code } = this.projection;
    const row = await this.o.states.read(sql, name);
    if (!row) throw new Error(`the row of projection ${name} is missing`);
    const plan = planStep(row, code);
    if (plan.kind === 'stand-by') return { standBy: plan.reason, message: standByMessage(row, code, plan.reason) };
    if (plan.kind === 'idle') return 'idle';
    if (plan.kind === 'schedule-rebuild') {
      return (await this.o.states.scheduleNewerRebuild(sql, name, code)) ? 'worked' : 'idle';
    }
    const head = await this.o.store.headPosition(sql);
    // The live model keeps following the log while its shadow is built (same version) or stopped.
    const liveWorked = plan.live && (await this.live.applyNext(sql, row, head));
    if (plan.rebuild === 'prepare') return (await this.rebuild.prepare(sql, row)) ? 'worked' : 'idle';
    const rebuildWorked = plan.rebuild === 'fill' && (await this.rebuild.fill(sql, row, head));
    if (plan.rebuild) this.o.onProgress?.(row, head);
    return liveWorked || rebuildWorked ? 'worked' : 'idle';
  }
}
