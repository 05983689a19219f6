import { Logger } from '@nestjs/common';
import type { Queryable } from '../../postgres/queryable';
import { BatchApplier, CheckpointMoved, inTransaction } from './batch-applier';
import type { BatchFeed } from './batch-feed';
import type { Projection, ProjectionCommit } from '../projection';
import type { ProjectionRow } from '../projection-state';
import type { ProjectionStateStore } from '../projection-state-store';
import { bareName, tableNamesOf } from '../table-names';

const dropTable = (table: string) => `DROP TABLE IF EXISTS ${table}`;
const renameTable = (from: string, to: string) => `ALTER TABLE ${from} RENAME TO ${bareName(to)}`;
const renameTableIfExists = (from: string, to: string) => `ALTER TABLE IF EXISTS ${from} RENAME TO ${bareName(to)}`;

export interface RebuildOptions {
  projection: Projection;
  /** Quoted schema of the log; the tables live beside it. */
  schema: string;
  states: ProjectionStateStore;
  feed: BatchFeed;
  batchSize: number;
  onCommit: (commit: ProjectionCommit) => void;
}

/**
 * A rebuild: fresh shadow tables (prepare), filled from position 0 by its own
 * phase (own checkpoint, batch size and stop state), then swapped in for the
 * live tables in one transaction (switch): readers see the old model or the
 * new one, never neither. Every step first compare-and-sets the projection
 * row, so an abort or a newer deploy racing it wins or waits, never mixes.
 */
export class ProjectionRebuild {
  readonly applier: BatchApplier;
  private readonly logger: Logger;

  constructor(private readonly o: RebuildOptions) {
    this.applier = new BatchApplier({
      projection: o.projection,
      phase: 'rebuild',
      states: o.states,
      feed: o.feed,
      batchSize: o.batchSize,
      tables: this.tables('rebuild'),
    });
    this.logger = new Logger(`Projection:${o.projection.name}`);
  }

  /** Drops any leftover shadow tables and creates fresh ones. */
  async prepare(sql: Queryable, row: ProjectionRow): Promise<boolean> {
    const rebuild = row.rebuild!;
    const shadow = this.tables('rebuild');
    const prepared = await inTransaction(sql, async () => {
      if (!(await this.o.states.markPrepared(sql, row.name, rebuild.version))) return false;
      for (const table of Object.values(shadow)) await sql.query(dropTable(table));
      await this.o.projection.createTables(sql, shadow);
      return true;
    });
    this.applier.reset();
    if (prepared) this.logger.log(`rebuild to v${rebuild.version} started in shadow tables`);
    return true;
  }

  /**
   * Applies the next batch to the shadow model and switches it live once it
   * has caught up with `head` and with the live model, even while appends go on.
   */
  async fill(sql: Queryable, row: ProjectionRow, head: number): Promise<boolean> {
    const worked = await this.applier.applyNext(sql, row, head);
    const rebuild = row.rebuild!;
    if (rebuild.state !== 'running' || rebuild.position < head || rebuild.position < row.position) return worked;
    await this.switchLive(sql, row);
    return true;
  }

  /** Drops the shadow tables (an operator's abort, in the transaction that ends the rebuild). */
  async dropShadow(sql: Queryable): Promise<void> {
    for (const table of Object.values(this.tables('rebuild'))) await sql.query(dropTable(table));
  }

  private async switchLive(sql: Queryable, row: ProjectionRow): Promise<void> {
    const { version, position } = row.rebuild!;
    const [live, shadow, retired] = [this.tables('live'), this.tables('rebuild'), this.tables('retired')];
    try {
      await inTransaction(sql, async () => {
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
