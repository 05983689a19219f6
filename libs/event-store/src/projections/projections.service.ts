import { Logger } from '@nestjs/common';
import { EventEmitter } from 'node:events';
import { EventStoreError } from '../errors';
import type { EventStore } from '../postgres/postgres-event-store';
import { AppendListener } from './append-listener';
import { LockConnection } from './runner/lock-connection';
import type { Projection, ProjectionCommit, ProjectionFault } from './projection';
import { ProjectionRunner } from './runner/projection-runner';
import type { AbortedRebuild, ProjectionPhase, ProjectionRow, ProjectionStatus } from './projection-state';
import { ProjectionStateStore } from './projection-state-store';
import { ProjectionWorker } from './runner/projection-worker';
import { ResolvedProjectionsOptions } from './projections-options';
import { RebuildProgressLog, rebuildProgress } from './rebuild-progress';
import { qualifiedTable } from './table-names';
import { errorCodeOf } from './runner/transient';
import type { Queryable } from '../postgres/queryable';

/** Asked for a projection (or a read-model table) that is not registered. */
export class UnknownProjectionError extends EventStoreError {
  readonly code = 'PROJECTION.NOT_FOUND';
}

/** A command does not fit the projection's state (e.g. skip of a position it is not stopped on, abort with no rebuild). */
export class ProjectionStateError extends EventStoreError {
  readonly code = 'PROJECTION.STATE_CONFLICT';
}

interface Registered {
  projection: Projection;
  worker: ProjectionWorker;
  runner: ProjectionRunner;
}

/**
 * Runs every registered projection (one active runner per projection across
 * all instances), wakes them on NOTIFY with a polling fallback, and offers
 * status, rebuild (start, abort), retry, skip and read-your-writes waits.
 */
export class ProjectionsService {
  private readonly registered = new Map<string, Registered>();
  private readonly commits = new EventEmitter();
  private readonly states: ProjectionStateStore;
  private readonly listener: AppendListener;
  private started = false;
  private readonly logger = new Logger('Projections');

  constructor(
    /** Autocommit statements on the store's pool (operator commands, state reads). */
    private readonly db: Queryable,
    private readonly store: EventStore,
    projections: Projection[],
    private readonly options: ResolvedProjectionsOptions,
    lockClass: number,
  ) {
    this.commits.setMaxListeners(0);
    this.states = new ProjectionStateStore(store.schema);
    this.listener = new AppendListener(options.url, options.channel, () => this.wakeAll());
    const progress = new RebuildProgressLog(options.clock);
    for (const projection of projections) {
      const { name } = projection;
      if (!/^[a-z][a-z0-9_]{0,40}$/.test(name)) throw new Error(`Invalid projection name "${name}"`);
      if (this.registered.has(name)) throw new Error(`Projection "${name}" registered twice`);
      const worker = new ProjectionWorker(projection, {
        store,
        pool: db,
        states: this.states,
        batchSize: options.batchSize,
        onCommit: (c) => this.commits.emit('commit', c),
        onProgress: (row, head) => progress.report(row, head),
        onFault: (f) => this.commits.emit('fault', f),
        clock: options.clock,
        pollMs: options.pollMs,
        switchLockTimeoutMs: options.switchLockTimeoutMs,
      });
      const lock = new LockConnection({ url: options.url, lockClass, name, boundMs: options.lockTimeoutMs, clock: options.clock });
      const runner = new ProjectionRunner(name, lock, worker, {
        clock: options.clock,
        pollMs: options.pollMs,
        stopGraceMs: options.lockTimeoutMs,
        onFailure: (e) => this.commits.emit('fault', { projection: name, scope: 'projection', outcome: 'retry', code: errorCodeOf(e) }),
      });
      this.registered.set(name, { projection, worker, runner });
    }
  }

  /** Registered projection names. */
  names(): string[] {
    return [...this.registered.keys()];
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await this.listener.start();
    // The first attempt at each lock is awaited: on the instance that takes it, the read-model
    // tables exist once start() returns, so a query right after bootstrap does not miss them.
    await Promise.all([...this.registered.values()].map(({ runner }) => runner.start()));
  }

  async stop(): Promise<void> {
    this.started = false;
    await Promise.all([...this.registered.values()].map(({ runner }) => runner.stop()));
    await this.listener.stop();
  }

  /** Called after every committed batch of any projection run by this instance. */
  onCommit(listener: (commit: ProjectionCommit) => void): () => void {
    this.commits.on('commit', listener);
    return () => this.commits.off('commit', listener);
  }

  /** Called on every failed attempt (retried) and every stop of a phase, on this instance: for metrics. */
  onFault(listener: (fault: ProjectionFault) => void): () => void {
    this.commits.on('fault', listener);
    return () => this.commits.off('fault', listener);
  }

  /**
   * `"schema"."table"` of a read-model table a registered projection declares
   * (or of `projections`, the checkpoint table), for query handlers' SQL.
   */
  tableName(table: string): string {
    const known = table === 'projections' || [...this.registered.values()].some(({ projection }) => projection.tables.includes(table));
    if (!known) throw new UnknownProjectionError(`No registered projection declares a table named "${table}"`);
    return qualifiedTable(this.store.schema, table);
  }

  async status(): Promise<ProjectionStatus[]> {
    const head = await this.store.headPosition();
    const rows = new Map((await this.states.readAll(this.db)).map((r) => [r.name, r]));
    const now = this.options.clock.now();
    return [...this.registered.values()].map(({ projection, runner, worker }) => {
      const row = rows.get(projection.name);
      const checkpoint = row?.position ?? 0;
      const rebuild = row?.rebuild;
      return {
        name: projection.name,
        version: row?.version ?? projection.version,
        codeVersion: projection.version,
        checkpoint,
        head,
        lag: Math.max(0, head - checkpoint),
        state: stateOf(row),
        lastError: row?.error ?? null,
        rebuild: rebuild
          ? { ...rebuild, state: rebuild.state === 'stopped' ? 'stopped-on-error' : 'running', ...rebuildProgress(row, head, now) }
          : null,
        abortedRebuild: row?.abortedRebuild ?? null,
        skipped: row?.skipped ?? [],
        retrying: [runner.retrying, worker.rebuild.retrying].filter((r) => r !== null),
        activeHere: runner.active,
      };
    });
  }

  /** Starts a rebuild into shadow tables; the live model keeps serving until the switch. */
  async rebuild(name: string): Promise<void> {
    const { projection, runner } = this.get(name);
    if (!(await this.states.requestRebuild(this.db, name, projection.version))) {
      throw new ProjectionStateError(`Projection "${name}" is already rebuilding, not started yet, or live at a newer version`);
    }
    runner.nudge();
  }

  /** Ends the rebuild (running or stopped) and drops its shadow tables; the live model is untouched. */
  async abortRebuild(name: string): Promise<AbortedRebuild> {
    const { worker, runner } = this.get(name);
    const aborted = await this.store.inTransaction(async (q) => {
      const ended = await this.states.abortRebuild(q, name);
      if (ended) await worker.rebuild.dropShadow(q);
      return ended;
    });
    if (!aborted) throw new ProjectionStateError(`Projection "${name}" has no rebuild to abort`);
    this.logger.warn(`projection ${name}: v${aborted.version} rebuild ABORTED by an operator at position ${aborted.position}`);
    runner.nudge();
    return aborted;
  }

  /** Resumes the stopped phase (or both, unless `phase` names one), trying the same event again (after a fix). */
  async retry(name: string, phase?: ProjectionPhase): Promise<ProjectionPhase[]> {
    const { runner } = this.get(name);
    const resumed = await this.states.retry(this.db, name, phase);
    if (!resumed.length) throw new ProjectionStateError(`Projection "${name}" has no ${phase ? `${phase} phase ` : ''}stopped on an error`);
    runner.nudge();
    return resumed;
  }

  /**
   * Skips exactly the event a phase is stopped on. `position` must name it, so
   * a stale request cannot skip another event. Recorded in `skipped`, per phase.
   */
  async skip(name: string, position: number, phase?: ProjectionPhase): Promise<ProjectionPhase[]> {
    const { runner } = this.get(name);
    const resumed = await this.states.skip(this.db, name, position, phase);
    if (!resumed.length) {
      throw new ProjectionStateError(`Projection "${name}" has no ${phase ? `${phase} phase ` : ''}stopped on position ${position}`);
    }
    this.logger.warn(`projection ${name}: event at position ${position} SKIPPED by an operator (${resumed.join(', ')})`);
    runner.nudge();
    return resumed;
  }

  /** Current live checkpoint of a projection (0 before its first run). */
  async checkpoint(name: string): Promise<number> {
    this.get(name);
    return this.states.checkpoint(this.db, name);
  }

  /**
   * Waits until the projection's read model reflects `position` (read-your-writes).
   * Wakes on local commits, polls the shared checkpoint otherwise; false on timeout.
   */
  async waitFor(name: string, position: number, timeoutMs: number): Promise<boolean> {
    const { clock } = this.options;
    const deadline = clock.now() + timeoutMs;
    for (;;) {
      if ((await this.checkpoint(name)) >= position) return true;
      const left = deadline - clock.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const done = () => (cancel(), off(), resolve());
        const off = this.onCommit((c) => c.projection === name && c.position >= position && done());
        const cancel = clock.setTimeout(done, Math.min(left, 50));
      });
    }
  }

  private get(name: string): Registered {
    const registered = this.registered.get(name);
    if (!registered) throw new UnknownProjectionError(`No projection named "${name}"`);
    return registered;
  }

  private wakeAll(): void {
    for (const { runner } of this.registered.values()) runner.notify();
  }
}

function stateOf(row: ProjectionRow | undefined): ProjectionStatus['state'] {
  if (row?.state === 'stopped') return 'stopped-on-error';
  if (row?.rebuild?.state === 'stopped') return 'rebuild-stopped-on-error';
  return row?.rebuild ? 'rebuilding' : 'running';
}
