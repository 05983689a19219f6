import { Logger } from '@nestjs/common';
import type { Queryable } from '../../postgres/queryable';
import type { Clock } from '../clock';
import { BatchApplier, CheckpointMoved, inTransaction } from './batch-applier';
import type { BatchFeed } from './batch-feed';
import type { Projection, ProjectionCommit, ProjectionFault } from '../projection';
import type { ProjectionError, ProjectionRow, RebuildStep } from '../projection-state';
import type { ProjectionStateStore } from '../projection-state-store';
import { bareName, tableNamesOf } from '../table-names';
import { errorCodeOf, isTransient, RetryStreak, type RetryReport, TRANSIENT_REPORT_AFTER } from './transient';

const dropTable = (table: string) => `DROP TABLE IF EXISTS ${table}`;
const renameTable = (from: string, to: string) => `ALTER TABLE ${from} RENAME TO ${bareName(to)}`;
const renameTableIfExists = (from: string, to: string) => `ALTER TABLE IF EXISTS ${from} RENAME TO ${bareName(to)}`;
/** Bounds each lock wait of the transaction. */
const lockTimeout = (ms: number) => `SET LOCAL lock_timeout = ${ms}`;
/** Bounds each statement, so also a LOCK of several tables as a whole (`lock_timeout` counts per lock). */
const statementTimeout = (ms: number) => `SET LOCAL statement_timeout = ${ms}`;
const EXISTING_TABLES = 'SELECT t FROM unnest($1::text[]) AS t WHERE to_regclass(t) IS NOT NULL';
const lockTables = (tables: string[]) => `LOCK TABLE ${tables.join(', ')} IN ACCESS EXCLUSIVE MODE`;

export interface RebuildOptions {
  projection: Projection;
  /** Quoted schema of the log; the tables live beside it. */
  schema: string;
  states: ProjectionStateStore;
  feed: BatchFeed;
  batchSize: number;
  onCommit: (commit: ProjectionCommit) => void;
  clock: Clock;
  pollMs: number;
  /** The longest a switch (or a preparation) waits for its table locks before it backs off: the longest a read queues behind it. */
  lockTimeoutMs: number;
  onFault?: (fault: ProjectionFault) => void;
}

/**
 * A rebuild: fresh shadow tables (prepare), filled from position 0 by its own
 * phase (own checkpoint, batch size and stop state), then swapped in for the
 * live tables in one transaction (switch): readers see the old model or the
 * new one, never neither. Every step first compare-and-sets the projection
 * row, so an abort or a newer deploy racing it wins or waits, never mixes.
 * A step that fails is the rebuild's alone: a failure of the moment backs off
 * (the live phase goes on meanwhile), any other stops the rebuild with its error.
 */
export class ProjectionRebuild {
  readonly applier: BatchApplier;
  private readonly logger: Logger;
  private readonly retries: RetryStreak;

  constructor(private readonly o: RebuildOptions) {
    this.applier = new BatchApplier({
      projection: o.projection,
      phase: 'rebuild',
      states: o.states,
      feed: o.feed,
      batchSize: o.batchSize,
      tables: this.tables('rebuild'),
      onFault: o.onFault,
    });
    this.logger = new Logger(`Projection:${o.projection.name}`);
    this.retries = new RetryStreak('rebuild', o.clock, o.pollMs);
  }

  /** The streak of failed attempts of this rebuild on this instance, once it is long enough to report. */
  get retrying(): RetryReport | null {
    return this.retries.report();
  }

  /** Forgets this tenure's prefetch, isolation search and failure streak: another instance may run the rebuild now. */
  reset(): void {
    this.applier.reset();
    this.retries.succeeded();
  }

  /** Drops any leftover shadow tables and creates fresh ones. */
  prepare(sql: Queryable, row: ProjectionRow): Promise<boolean> {
    return this.guarded(sql, row, 'prepare', async () => {
      const rebuild = row.rebuild!;
      const shadow = this.tables('rebuild');
      const prepared = await inTransaction(sql, async () => {
        // A leftover shadow table an open reader (a dump) still holds must not hang the step, and the live phase with it.
        await sql.query(lockTimeout(this.o.lockTimeoutMs));
        if (!(await this.o.states.markPrepared(sql, row.name, rebuild.version))) return false;
        for (const table of Object.values(shadow)) await sql.query(dropTable(table));
        await this.o.projection.createTables(sql, shadow);
        return true;
      });
      this.applier.reset();
      if (prepared) this.logger.log(`rebuild to v${rebuild.version} started in shadow tables`);
      return true;
    });
  }

  /**
   * Applies the next batch to the shadow model and switches it live once it
   * has caught up with `head` and with the live model, even while appends go on.
   */
  fill(sql: Queryable, row: ProjectionRow, head: number): Promise<boolean> {
    let step: RebuildStep = 'fill';
    return this.guarded(
      sql,
      row,
      () => step,
      async () => {
        const worked = await this.applier.applyNext(sql, row, head);
        const rebuild = row.rebuild!;
        if (rebuild.state !== 'running' || rebuild.position < head || rebuild.position < row.position) return worked;
        step = 'switch';
        await this.switchLive(sql, row);
        return true;
      },
    );
  }

  /** Drops the shadow tables (an operator's abort, in the transaction that ends the rebuild). */
  async dropShadow(sql: Queryable): Promise<void> {
    for (const table of Object.values(this.tables('rebuild'))) await sql.query(dropTable(table));
  }

  /**
   * Runs a step of the rebuild unless its backoff runs. A failure of the moment (a lock the switch
   * could not get within its timeout, a cancel, a lost connection) backs off, doubling, and is
   * counted; any other failure stops the rebuild on it, once, so it is visible in the status and
   * logged once, and the live model goes on (instances of its version take it back).
   */
  private async guarded(
    sql: Queryable,
    row: ProjectionRow,
    step: RebuildStep | (() => RebuildStep),
    work: () => Promise<boolean>,
  ): Promise<boolean> {
    if (this.retries.waiting()) return false;
    try {
      const worked = await work();
      const attempts = this.retries.succeeded();
      if (attempts) this.logger.log(`rebuild recovered after ${attempts} failed attempt(s)`);
      return worked;
    } catch (error) {
      this.applier.reset();
      const failed = typeof step === 'function' ? step() : step;
      if (isTransient(error)) {
        this.backOff(failed, error);
        return false;
      }
      await this.stop(sql, row, failed, error);
      return true;
    }
  }

  private backOff(step: RebuildStep, error: unknown): void {
    const { attempts, delayMs } = this.retries.failed(error);
    this.o.onFault?.({ projection: this.o.projection.name, scope: 'rebuild', outcome: 'retry', code: errorCodeOf(error) });
    const what = `rebuild ${step}: transient error ${errorCodeOf(error) || '(no SQLSTATE)'}: ${(error as Error)?.message}`;
    if (attempts === 1) this.logger.warn(`${what}; retrying in ${delayMs} ms (the live model is not held up)`);
    if (attempts === TRANSIENT_REPORT_AFTER) this.logger.error(`${what}; still failing after ${attempts} attempts, retrying with backoff`);
  }

  private async stop(sql: Queryable, row: ProjectionRow, step: RebuildStep, cause: unknown): Promise<void> {
    const rebuild = row.rebuild!;
    const code = 'PROJECTION.REBUILD_FAILED';
    const sqlState = errorCodeOf(cause);
    const reason = `${step} failed${sqlState ? ` (SQLSTATE ${sqlState})` : ''}: ${(cause as Error)?.message ?? String(cause)}`;
    const error: ProjectionError = { position: rebuild.position, code, reason, at: new Date().toISOString(), phase: 'rebuild', step };
    this.retries.succeeded();
    if (!(await this.o.states.stopRebuild(sql, row.name, rebuild.version, error))) return; // an abort or a newer deploy won
    Object.assign(rebuild, { state: 'stopped', error });
    this.o.onFault?.({ projection: row.name, scope: 'rebuild', outcome: 'stop', code });
    this.logger.error(`rebuild to v${rebuild.version} stopped at position ${rebuild.position}: ${code} ${reason}`);
  }

  /**
   * One transaction: every table lock taken up front, each wait bounded by the lock timeout, so
   * behind an open reader (a `pg_dump`) reads queue behind the switch at most that long; then the
   * renames, which hold the locks only for a moment. A timeout rolls back and backs off.
   */
  private async switchLive(sql: Queryable, row: ProjectionRow): Promise<void> {
    const { version, position } = row.rebuild!;
    const [live, shadow, retired] = [this.tables('live'), this.tables('rebuild'), this.tables('retired')];
    try {
      await inTransaction(sql, async () => {
        await sql.query(lockTimeout(this.o.lockTimeoutMs));
        await sql.query(statementTimeout(this.o.lockTimeoutMs));
        const existing = await sql.query<{ t: string }>(EXISTING_TABLES, [Object.values(live)]);
        await sql.query(lockTables([...existing.map((r) => r.t), ...Object.values(shadow)]));
        if (!(await this.o.states.switchLive(sql, row.name, version, position))) throw new CheckpointMoved();
        for (const t of this.o.projection.tables) {
          await sql.query(dropTable(retired[t]));
          await sql.query(renameTableIfExists(live[t], retired[t]));
          await sql.query(renameTable(shadow[t], live[t]));
          await sql.query(dropTable(retired[t]));
        }
      });
    } catch (error) {
      if (!(error instanceof CheckpointMoved)) throw error;
      this.applier.reset();
      return;
    }
    this.applier.reset();
    this.logger.log(`rebuild to v${version} switched live at position ${position}`);
    this.o.onCommit({ projection: row.name, position, tags: [`projection:${row.name}`] });
  }

  private tables(generation: 'live' | 'rebuild' | 'retired') {
    return tableNamesOf(this.o.schema, this.o.projection.tables, generation);
  }
}
