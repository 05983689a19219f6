import { Logger } from '@nestjs/common';
import type { DataSource, QueryRunner } from 'typeorm';
import { EventReadError } from '../errors';
import type { EventStore } from '../postgres/postgres-event-store';
import type { RecordedEvent, StoredEvent } from '../types';
import type { Projection, ProjectionCommit, TableNames } from './projection';
import type { ProjectionError, ProjectionRow } from './projection-state';
import { toRow } from './projection-state';

export interface RunnerOptions {
  dataSource: DataSource;
  store: EventStore;
  /** First key of the per-projection advisory lock (second: hash of the name). */
  lockClass: number;
  batchSize: number;
  /** Longest sleep between polls when no NOTIFY arrives. */
  pollMs: number;
  onCommit: (commit: ProjectionCommit) => void;
  onProgress?: (name: string, row: ProjectionRow, head: number) => void;
}

const sleep = (ms: number, wake: Promise<void>) =>
  Promise.race([new Promise<void>((r) => setTimeout(r, ms).unref()), wake]);

/**
 * Runs one projection on the instance that holds its session advisory lock;
 * others stand by and take over when the holder's connection dies. Each batch
 * (read-model writes + checkpoint) is one transaction on the lock connection.
 */
export class ProjectionRunner {
  private q?: QueryRunner;
  private running = false;
  private loop?: Promise<void>;
  private wakeUp: () => void = () => undefined;
  private wakeSignal = this.newWakeSignal();
  private limit: number;
  /** While searching for a failing event one at a time: the last position of the batch that failed. */
  private singleStepUntil = 0;
  /** After yielding to a newer instance, do not compete for the lock before this time. */
  private standByUntil = 0;
  private readonly logger: Logger;

  constructor(readonly projection: Projection, private readonly o: RunnerOptions) {
    this.limit = o.batchSize;
    this.logger = new Logger(`Projection:${projection.name}`);
  }

  /** True while this instance holds the lock and applies events. */
  get active(): boolean {
    return this.q !== undefined;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Wakes the loop (new events or a command). */
  notify(): void {
    this.wakeUp();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.notify();
    await this.loop;
    await this.releaseLock();
  }

  private newWakeSignal(): Promise<void> {
    return new Promise<void>((resolve) => (this.wakeUp = resolve));
  }

  private async run(): Promise<void> {
    while (this.running) {
      const wake = this.wakeSignal;
      let worked = false;
      try {
        if (this.q || (Date.now() >= this.standByUntil && (await this.acquireLock()))) worked = await this.step();
      } catch (error) {
        if (!this.running) break;
        this.logger.error(`runner error, reconnecting: ${(error as Error).message}`);
        await this.releaseLock();
      }
      if (!worked && this.running) {
        await sleep(this.q ? this.o.pollMs : this.o.pollMs * 2, wake);
        if (wake === this.wakeSignal) this.wakeSignal = this.newWakeSignal();
      }
    }
  }

  private async acquireLock(): Promise<boolean> {
    const q = this.o.dataSource.createQueryRunner();
    await q.connect();
    const [{ locked }] = await q.query('SELECT pg_try_advisory_lock($1, hashtext($2)) AS locked', [
      this.o.lockClass,
      this.projection.name,
    ]);
    if (!locked) {
      await q.release();
      return false;
    }
    this.q = q;
    this.logger.log('acquired the projection lock: this instance runs it');
    await this.ensureRow(q);
    return true;
  }

  private async releaseLock(): Promise<void> {
    const q = this.q;
    this.q = undefined;
    if (!q) return;
    this.limit = this.o.batchSize;
    if (q.isTransactionActive) await q.rollbackTransaction().catch(() => undefined);
    const unlocked = await q
      .query('SELECT pg_advisory_unlock($1, hashtext($2))', [this.o.lockClass, this.projection.name])
      .then(() => true, () => false);
    // A connection that may still hold the lock must not go back to the pool: destroy it (its session ends).
    if (unlocked) await q.release().catch(() => undefined);
    else await (q as unknown as { releasePostgresConnection(err: Error): Promise<void> }).releasePostgresConnection(new Error('discard')).catch(() => undefined);
  }

  /** Creates the row and live tables on first run; schedules a rebuild when the code's version changed. */
  private async ensureRow(q: QueryRunner): Promise<void> {
    const s = this.o.store.schema;
    await q.startTransaction();
    try {
      const inserted = await q.query(
        `INSERT INTO ${s}.projections (name, version) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING RETURNING name`,
        [this.projection.name, this.projection.version],
      );
      if (inserted.length) await this.projection.createTables(q, this.tableNames('live'));
      else {
        await q.query(
          // Only a newer version schedules a rebuild: an older replica in a rolling deploy never drags it back.
          `UPDATE ${s}.projections SET rebuild = jsonb_build_object('version', $2::int, 'position', 0, 'startedAt', now(), 'prepared', false)
            WHERE name = $1 AND version < $2 AND (rebuild IS NULL OR (rebuild->>'version')::int < $2)`,
          [this.projection.name, this.projection.version],
        );
      }
      await q.commitTransaction();
    } catch (error) {
      await q.rollbackTransaction();
      throw error;
    }
  }

  /** Physical names: live tables, or the shadow tables a rebuild fills. */
  tableNames(generation: 'live' | 'rebuild' | 'retired'): TableNames {
    const suffix = generation === 'live' ? '' : `__${generation}`;
    const schema = this.o.store.schema;
    return Object.fromEntries(this.projection.tables.map((t) => [t, `${schema}."${t}${suffix}"`]));
  }

  /** One unit of work; false when there was nothing to do. */
  private async step(): Promise<boolean> {
    const q = this.q!;
    const [raw] = await q.query(`SELECT * FROM ${this.o.store.schema}.projections WHERE name = $1`, [this.projection.name]);
    const row = toRow(raw);
    const code = this.projection.version;
    if (code < row.version || (row.rebuild && code < row.rebuild.version)) return this.standByForNewer(row);
    if (row.state === 'stopped') return false;
    const head = await this.o.store.headPosition(q);
    if (!row.rebuild) return this.applyBatch(row, head, 'live');
    if (!row.rebuild.prepared) return this.prepareRebuild(row);
    // The live model keeps following the log while its shadow is built, unless its rules changed.
    const liveWorked = row.version === code && (await this.applyBatch(row, head, 'live'));
    const rebuildWorked = await this.applyBatch(row, head, 'rebuild');
    this.o.onProgress?.(this.projection.name, row, head);
    // Caught up with this step's head and not behind the live model: switch now, even while appends go on.
    if (row.rebuild.position >= head && row.rebuild.position >= row.position) {
      await this.switchToRebuilt(row);
      return true;
    }
    return liveWorked || rebuildWorked;
  }

  /**
   * This instance runs older projection code than the store already uses (a
   * rolling deploy): it must not apply its rules, so it lets the lock go and
   * waits, leaving the projection to an instance with the newer code.
   */
  private async standByForNewer(row: ProjectionRow): Promise<boolean> {
    this.logger.warn(
      `this instance has ${row.name} v${this.projection.version} but the store is at v${row.rebuild?.version ?? row.version}: standing by for a newer instance`,
    );
    await this.releaseLock();
    this.standByUntil = Date.now() + this.o.pollMs * 20;
    return false;
  }

  private async prepareRebuild(row: ProjectionRow): Promise<boolean> {
    const q = this.q!;
    const shadow = this.tableNames('rebuild');
    await this.inTransaction(async () => {
      for (const table of Object.values(shadow)) await q.query(`DROP TABLE IF EXISTS ${table}`);
      await this.projection.createTables(q, shadow);
      await q.query(
        `UPDATE ${this.o.store.schema}.projections SET rebuild = rebuild || '{"prepared": true, "position": 0}'::jsonb,
            updated_at = now() WHERE name = $1`,
        [row.name],
      );
    });
    this.logger.log(`rebuild to v${row.rebuild!.version} started in shadow tables`);
    return true;
  }

  /** Applies the next batch to the live or shadow model; returns whether it advanced. */
  private async applyBatch(row: ProjectionRow, head: number, phase: 'live' | 'rebuild'): Promise<boolean> {
    const q = this.q!;
    const from = phase === 'live' ? row.position : row.rebuild!.position;
    if (from >= head) return false;
    const stored = await this.o.store.readBatch(from + 1, head, this.limit, q, this.projection.handles);
    const recorded: RecordedEvent[] = [];
    let poison: ProjectionError | undefined;
    // An operator's skip is a decision about the event, not about one run: rebuilds honour it too.
    const skipped = new Set(row.skipped.map((k) => Number(k.position)));
    for (const e of stored) {
      if (skipped.has(e.position)) continue;
      try {
        recorded.push(this.o.store.registry.upcast(e));
      } catch (error) {
        if (!(error instanceof EventReadError)) throw error;
        poison = { ...error.location, code: error.code, reason: error.reason, at: new Date().toISOString(), phase };
        break;
      }
    }
    // Every handled event up to `to` is applied; when the batch was not full, that is the whole settled log.
    let to = poison ? poison.position - 1 : stored.length === this.limit ? stored[stored.length - 1].position : head;
    let tags: string[] = [];
    try {
      await this.inTransaction(async () => {
        if (recorded.length) tags = await this.applyProjection(recorded, this.tableNames(phase));
        await this.saveCheckpoint(row.name, phase, to, poison);
      });
    } catch (error) {
      // Only the projection's own failure can mean a poison event; anything else (connection lost,
      // deadlock, timeout) is transient: the loop reconnects and tries the same batch again.
      if (!(error instanceof ProjectionApplyError) || isTransient(error.cause)) throw error;
      if (this.limit > 1 && stored.length > 1) {
        // Find the event that fails by applying one at a time, up to the end of this batch.
        this.limit = 1;
        this.singleStepUntil = stored[stored.length - 1].position;
        return true;
      }
      const { position, streamId, streamVersion, eventId, type, schemaVersion } = recorded[0];
      const reason = (error.cause as Error)?.message ?? String(error.cause);
      poison = { position, streamId, streamVersion, eventId, type, schemaVersion, code: 'PROJECTION.APPLY_FAILED', reason, at: new Date().toISOString(), phase };
      to = position - 1;
      await this.inTransaction(() => this.saveCheckpoint(row.name, phase, to, poison));
    }
    if (poison || (this.limit === 1 && to >= this.singleStepUntil)) this.limit = this.o.batchSize;
    if (poison) {
      this.logger.error(`${poison.phase}: stopped at position ${poison.position} (${poison.type} v${poison.schemaVersion}, stream ${poison.streamId}): ${poison.code} ${poison.reason}`);
    }
    if (phase === 'live') this.o.onCommit({ projection: row.name, position: to, tags });
    if (phase === 'live') row.position = to;
    else row.rebuild!.position = to;
    return to > from;
  }

  private async saveCheckpoint(name: string, phase: 'live' | 'rebuild', position: number, poison?: ProjectionError) {
    const s = this.o.store.schema;
    const set = phase === 'live' ? 'position = $2' : `rebuild = jsonb_set(rebuild, '{position}', to_jsonb($2::bigint))`;
    await this.q!.query(
      `UPDATE ${s}.projections SET ${set}, updated_at = now(),
              state = CASE WHEN $3::jsonb IS NULL THEN state ELSE 'stopped' END, error = coalesce($3::jsonb, error)
        WHERE name = $1`,
      [name, position, poison ? JSON.stringify(poison) : null],
    );
  }

  /** Swaps shadow tables in for the live ones in one transaction: readers see the old model or the new, never neither. */
  private async switchToRebuilt(row: ProjectionRow): Promise<void> {
    const q = this.q!;
    const [live, shadow, retired] = [this.tableNames('live'), this.tableNames('rebuild'), this.tableNames('retired')];
    await this.inTransaction(async () => {
      for (const t of this.projection.tables) {
        const bare = (name: string) => name.slice(name.lastIndexOf('.') + 1);
        await q.query(`DROP TABLE IF EXISTS ${retired[t]}`);
        await q.query(`ALTER TABLE IF EXISTS ${live[t]} RENAME TO ${bare(retired[t])}`);
        await q.query(`ALTER TABLE ${shadow[t]} RENAME TO ${bare(live[t])}`);
        await q.query(`DROP TABLE IF EXISTS ${retired[t]}`);
      }
      await q.query(
        `UPDATE ${this.o.store.schema}.projections SET version = $2, position = $3, rebuild = NULL, updated_at = now() WHERE name = $1`,
        [row.name, row.rebuild!.version, row.rebuild!.position],
      );
    });
    this.logger.log(`rebuild to v${row.rebuild!.version} switched live at position ${row.rebuild!.position}`);
    this.o.onCommit({ projection: row.name, position: row.rebuild!.position, tags: [`projection:${row.name}`] });
  }

  private async applyProjection(events: RecordedEvent[], tables: TableNames): Promise<string[]> {
    try {
      return await this.projection.apply(events, this.q!, tables);
    } catch (cause) {
      throw new ProjectionApplyError(cause);
    }
  }

  private async inTransaction<T>(work: () => Promise<T>): Promise<T> {
    const q = this.q!;
    await q.startTransaction();
    try {
      const result = await work();
      await q.commitTransaction();
      return result;
    } catch (error) {
      await q.rollbackTransaction().catch(() => undefined);
      throw error;
    }
  }
}

/** Marks a failure thrown by the projection's own `apply`, as opposed to the runner's I/O. */
class ProjectionApplyError extends Error {
  constructor(readonly cause: unknown) {
    super((cause as Error)?.message ?? String(cause));
  }
}

/** Connection loss (08), transaction rollback (40: serialization, deadlock), operator intervention (57P) or a closed pool. */
function isTransient(error: unknown): boolean {
  const e = error as { code?: unknown; driverError?: { code?: unknown }; message?: unknown };
  const code = String(e?.driverError?.code ?? e?.code ?? '');
  return /^(08|40|57P)/.test(code) || /^(ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT)$/.test(code) ||
    /Connection terminated|Query runner already released|Client was closed/i.test(String(e?.message ?? ''));
}
