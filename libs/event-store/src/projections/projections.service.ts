import { Logger } from '@nestjs/common';
import { EventEmitter } from 'node:events';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { EventStoreError } from '../errors';
import type { EventStore } from '../postgres/postgres-event-store';
import type { Projection, ProjectionCommit } from './projection';
import { ProjectionRunner } from './projection-runner';
import { ProjectionRow, ProjectionStatus, toRow } from './projection-state';

/** Asked for a projection that is not registered. */
export class UnknownProjectionError extends EventStoreError {
  readonly code = 'PROJECTION.NOT_FOUND';
}

/** A command does not fit the projection's state (e.g. skip of a position it is not stopped on). */
export class ProjectionStateError extends EventStoreError {
  readonly code = 'PROJECTION.STATE_CONFLICT';
}

export interface ProjectionsOptions {
  /** URL for the LISTEN connection (appends NOTIFY it). */
  url: string;
  channel: string;
  batchSize?: number;
  pollMs?: number;
  /** Start runners (default true). Off for tools that only read status. */
  autoStart?: boolean;
}

/**
 * Runs every registered projection (one active runner per projection across
 * all instances), wakes them on NOTIFY with a polling fallback, and offers
 * status, rebuild, retry, skip and read-your-writes waits.
 */
export class ProjectionsService {
  private readonly runners = new Map<string, ProjectionRunner>();
  private readonly commits = new EventEmitter();
  private listener?: Client;
  private closed = false;
  private started = false;
  private readonly logger = new Logger('Projections');
  private readonly lastProgressLog = new Map<string, number>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly store: EventStore,
    projections: Projection[],
    private readonly options: ProjectionsOptions,
    lockClass: number,
  ) {
    this.commits.setMaxListeners(0);
    for (const projection of projections) {
      if (!/^[a-z][a-z0-9_]{0,40}$/.test(projection.name)) throw new Error(`Invalid projection name "${projection.name}"`);
      if (this.runners.has(projection.name)) throw new Error(`Projection "${projection.name}" registered twice`);
      this.runners.set(projection.name, new ProjectionRunner(projection, {
        dataSource, store, lockClass, batchSize: options.batchSize ?? 2000, pollMs: options.pollMs ?? 500,
        onCommit: (c) => this.commits.emit('commit', c),
        onProgress: (name, row, head) => this.logProgress(name, row, head),
      }));
    }
  }

  /** Registered projection names. */
  names(): string[] {
    return [...this.runners.keys()];
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.closed = false;
    await this.listen();
    for (const runner of this.runners.values()) runner.start();
  }

  async stop(): Promise<void> {
    this.closed = true;
    this.started = false;
    await Promise.all([...this.runners.values()].map((r) => r.stop()));
    await this.listener?.end().catch(() => undefined);
  }

  /** Called after every committed batch of any projection run by this instance. */
  onCommit(listener: (commit: ProjectionCommit) => void): () => void {
    this.commits.on('commit', listener);
    return () => this.commits.off('commit', listener);
  }

  async status(): Promise<ProjectionStatus[]> {
    const head = await this.store.headPosition();
    const rows = await this.rows();
    return [...this.runners.values()].map((runner) => {
      const { name, version } = runner.projection;
      const row = rows.get(name);
      const checkpoint = row?.position ?? 0;
      return {
        name,
        version: row?.version ?? version,
        codeVersion: version,
        checkpoint,
        head,
        lag: Math.max(0, head - checkpoint),
        state: row?.state === 'stopped' ? 'stopped-on-error' : row?.rebuild ? 'rebuilding' : 'running',
        lastError: row?.error ?? null,
        rebuild: row?.rebuild ? { ...row.rebuild, ...rate(row, head) } : null,
        skipped: row?.skipped ?? [],
        activeHere: runner.active,
      };
    });
  }

  /** Starts a rebuild into shadow tables; the live model keeps serving until the switch. */
  async rebuild(name: string): Promise<void> {
    const runner = this.runner(name);
    const [, count] = await this.dataSource.query(
      `UPDATE ${this.store.schema}.projections
          SET rebuild = jsonb_build_object('version', $2::int, 'position', 0, 'startedAt', now(), 'prepared', false), updated_at = now()
        WHERE name = $1 AND rebuild IS NULL AND state = 'running'`,
      [name, runner.projection.version],
    );
    if (count !== 1) throw new ProjectionStateError(`Projection "${name}" is already rebuilding, stopped on an error, or not started yet`);
    this.wakeAll();
  }

  /** Resumes a projection stopped on an error, trying the same event again (after a fix). */
  async retry(name: string): Promise<void> {
    this.runner(name);
    const [, count] = await this.dataSource.query(
      `UPDATE ${this.store.schema}.projections SET state = 'running', error = NULL, updated_at = now()
        WHERE name = $1 AND state = 'stopped'`,
      [name],
    );
    if (count !== 1) throw new ProjectionStateError(`Projection "${name}" is not stopped on an error`);
    this.wakeAll();
  }

  /**
   * Skips exactly the event the projection is stopped on. `position` must name
   * it, so a stale request cannot skip another event. Recorded in `skipped`.
   */
  async skip(name: string, position: number): Promise<void> {
    this.runner(name);
    const [, count] = await this.dataSource.query(
      `UPDATE ${this.store.schema}.projections
          SET state = 'running', error = NULL, updated_at = now(),
              position = CASE WHEN error->>'phase' = 'live' THEN $2 ELSE position END,
              rebuild = CASE WHEN error->>'phase' = 'rebuild' THEN jsonb_set(rebuild, '{position}', to_jsonb($2::bigint)) ELSE rebuild END,
              skipped = skipped || jsonb_build_array(jsonb_build_object('position', $2::bigint, 'at', now(), 'error', error))
        WHERE name = $1 AND state = 'stopped' AND (error->>'position')::bigint = $2`,
      [name, position],
    );
    if (count !== 1) throw new ProjectionStateError(`Projection "${name}" is not stopped on position ${position}`);
    this.logger.warn(`projection ${name}: event at position ${position} SKIPPED by an operator`);
    this.wakeAll();
  }

  /** Current checkpoint of a projection (0 before its first run). */
  async checkpoint(name: string): Promise<number> {
    this.runner(name);
    const rows = await this.dataSource.query(`SELECT position FROM ${this.store.schema}.projections WHERE name = $1`, [name]);
    return rows.length ? Number(rows[0].position) : 0;
  }

  /**
   * Waits until the projection's read model reflects `position` (read-your-writes).
   * Wakes on local commits, polls the shared checkpoint otherwise; false on timeout.
   */
  async waitFor(name: string, position: number, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if ((await this.checkpoint(name)) >= position) return true;
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const done = () => (clearTimeout(timer), off(), resolve());
        const off = this.onCommit((c) => c.projection === name && c.position >= position && done());
        const timer = setTimeout(done, Math.min(left, 50));
      });
    }
  }

  private runner(name: string): ProjectionRunner {
    const runner = this.runners.get(name);
    if (!runner) throw new UnknownProjectionError(`No projection named "${name}"`);
    return runner;
  }

  private async rows(): Promise<Map<string, ProjectionRow>> {
    const rows = await this.dataSource.query(`SELECT * FROM ${this.store.schema}.projections`);
    return new Map(rows.map((r: unknown) => [toRow(r).name, toRow(r)]));
  }

  private wakeAll(): void {
    for (const runner of this.runners.values()) runner.notify();
  }

  /** LISTEN for appends; on any failure, reconnect later (runners keep polling meanwhile). */
  private async listen(): Promise<void> {
    if (this.closed) return;
    const client = new Client({ connectionString: this.options.url, application_name: 'event-store-listener' });
    client.on('notification', () => this.wakeAll());
    client.on('error', () => undefined);
    client.on('end', () => {
      if (!this.closed) setTimeout(() => void this.listen().catch(() => undefined), 1000).unref();
    });
    try {
      await client.connect();
      await client.query(`LISTEN "${this.options.channel.replace(/"/g, '""')}"`);
      this.listener = client;
    } catch (error) {
      this.logger.warn(`LISTEN failed (${(error as Error).message}); polling until it reconnects`);
      await client.end().catch(() => undefined);
    }
  }

  private logProgress(name: string, row: ProjectionRow, head: number): void {
    const now = Date.now();
    if (now - (this.lastProgressLog.get(name) ?? 0) < 2000 || !row.rebuild) return;
    this.lastProgressLog.set(name, now);
    const { percent, eventsPerSecond, etaSeconds } = rate(row, head);
    this.logger.log(`rebuild ${name} v${row.rebuild.version}: ${percent}% (position ${row.rebuild.position}/${head}), ${eventsPerSecond} events/s, ETA ${etaSeconds ?? '?'} s`);
  }
}

/** Rebuild progress from positions: the log's positions are the unit of work. */
function rate(row: ProjectionRow, head: number) {
  const rb = row.rebuild!;
  const elapsed = Math.max(0.001, (Date.now() - Date.parse(rb.startedAt)) / 1000);
  const eventsPerSecond = Math.round(rb.position / elapsed);
  const left = Math.max(0, head - rb.position);
  return {
    eventsPerSecond,
    etaSeconds: eventsPerSecond > 0 ? Math.ceil(left / eventsPerSecond) : null,
    percent: head > 0 ? Math.min(100, Math.round((1000 * rb.position) / head) / 10) : 100,
  };
}
