import { Logger } from '@nestjs/common';
import type { EventStore } from '../postgres/postgres-event-store';
import { AppendListener } from '../projections/append-listener';
import type { ProjectionError } from '../projections/projection-state';
import { ProjectionStateStore } from '../projections/projection-state-store';
import type { ResolvedProjectionsOptions } from '../projections/projections-options';
import { LockConnection } from '../projections/runner/lock-connection';
import { ProjectionRunner } from '../projections/runner/projection-runner';
import { ProjectionStateError } from '../projections/projections.service';
import type { RetryReport } from '../projections/runner/transient';
import type { PublishedMark } from './integration-publisher';
import { relayRowName, resolveRelayOptions, type RelayOptions } from './relay-options';
import { RELAY_ROW_VERSION, RelayWork } from './relay-work';
import type { Queryable } from '../postgres/queryable';

/** What `OutboxRelay.status()` answers (admin endpoint, readiness, metrics). */
export interface RelayStatus {
  name: string;
  /** `paused` by an operator, `stopped-on-error` on an event it cannot read, else `running` (on whichever instance holds the lock). */
  state: 'running' | 'paused' | 'stopped-on-error';
  /** Every published type's event up to here is published. */
  checkpoint: number;
  head: number;
  /** Positions between the checkpoint and the head (other types' events included). */
  lagPositions: number;
  /** Age of the oldest event of a published type not yet published, in seconds; 0 when none waits. */
  lagSeconds: number;
  lastError: ProjectionError | null;
  /** This instance's streak of failed attempts (publish errors, the broker or database unreachable), once it counts. */
  retrying: RetryReport | null;
  /** True when this instance holds the relay's lock and publishes. */
  activeHere: boolean;
  /** What this instance last learnt the broker holds (null when it does not publish). */
  brokerLast: PublishedMark | null;
}

/** Where the relay sits: what the library hands `OutboxRelay`. */
export interface RelayContext {
  /** Autocommit statements on the store's pool. */
  db: Queryable;
  store: EventStore;
  projections: ResolvedProjectionsOptions;
  lockClass: number;
}

/**
 * The log as the outbox: follows the global order of the log exactly as a projection does (the
 * same settled reads, checkpoint, one active instance by the same session lock, stand-bys that
 * take over within the projections' lock bound) and hands each event of the published types to
 * an `IntegrationPublisher`, moving its checkpoint only after the broker's acknowledgements.
 * Delivery is at least once and in position order (so in order per stream).
 */
export class OutboxRelay {
  readonly name: string;
  private readonly row: string;
  private readonly states: ProjectionStateStore;
  private readonly work: RelayWork;
  private readonly runner: ProjectionRunner;
  private readonly listener: AppendListener;
  private readonly types: readonly string[];
  private started = false;
  private readonly logger: Logger;

  constructor(
    private readonly ctx: RelayContext,
    options: RelayOptions,
  ) {
    const o = resolveRelayOptions(options);
    this.name = o.name;
    this.types = o.types;
    this.row = relayRowName(o.name);
    this.logger = new Logger(`Relay:${o.name}`);
    this.states = new ProjectionStateStore(ctx.store.schema);
    this.work = new RelayWork(o, ctx.store, this.states);
    const { url, channel, clock, pollMs, lockTimeoutMs } = ctx.projections;
    const lock = new LockConnection({ url, lockClass: ctx.lockClass, name: this.row, boundMs: lockTimeoutMs, clock });
    this.runner = new ProjectionRunner(this.row, lock, this.work, { clock, pollMs, stopGraceMs: lockTimeoutMs });
    this.listener = new AppendListener(url, channel, () => this.runner.notify());
  }

  /** Starts following the log; resolves after the first attempt at the lock. Never fails because the broker is away. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await this.listener.start();
    await this.runner.start();
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    await this.runner.stop();
    await this.listener.stop();
  }

  async status(): Promise<RelayStatus> {
    const { db, store } = this.ctx;
    const head = await store.headPosition();
    const row = await this.states.read(db, this.row);
    const checkpoint = row?.position ?? 0;
    const [next] = checkpoint < head ? await store.readBatch(checkpoint + 1, head, 1, undefined, this.types) : [];
    const state = row?.state !== 'stopped' ? 'running' : row.error ? 'stopped-on-error' : 'paused';
    return {
      name: this.name,
      state,
      checkpoint,
      head,
      lagPositions: Math.max(0, head - checkpoint),
      lagSeconds: next ? Math.max(0, (this.ctx.projections.clock.now() - Date.parse(next.recordedAt)) / 1000) : 0,
      lastError: row?.error ?? null,
      retrying: this.runner.retrying,
      activeHere: this.runner.active,
      brokerLast: this.runner.active ? (this.work.lastPublished ?? null) : null,
    };
  }

  /** Stops publishing after the batch in flight, on every instance, until `resume`. */
  async pause(): Promise<void> {
    await this.ensureRow();
    if (!(await this.states.pause(this.ctx.db, this.row))) throw new ProjectionStateError(`Relay "${this.name}" is not running`);
    this.logger.warn('PAUSED by an operator');
  }

  /** Resumes a paused relay, or one stopped on an event (which it then reads again). */
  async resume(): Promise<void> {
    const resumed = await this.states.retry(this.ctx.db, this.row, 'live');
    if (!resumed.length) throw new ProjectionStateError(`Relay "${this.name}" is neither paused nor stopped`);
    this.logger.log('resumed by an operator');
    this.runner.nudge();
  }

  /**
   * Publishes again from `position` (its checkpoint becomes `position - 1`). Events the broker
   * still holds (at or below its last message's position) are not sent again, so a replay fills
   * what the broker lost (a purged or re-created stream) without duplicates. A position past the
   * checkpoint leaves the events in between unpublished (logged).
   */
  async replay(position: number): Promise<{ from: number; previousCheckpoint: number }> {
    await this.ensureRow();
    const previousCheckpoint = await this.states.checkpoint(this.ctx.db, this.row);
    await this.states.rewind(this.ctx.db, this.row, position - 1);
    const how = position - 1 > previousCheckpoint ? 'SKIPPING the events in between' : 'replaying';
    this.logger.warn(`checkpoint moved by an operator from ${previousCheckpoint} to ${position - 1}: ${how}`);
    this.runner.nudge();
    return { from: position, previousCheckpoint };
  }

  /** The row exists once an instance first ran the relay; an operator command before that creates it. */
  private async ensureRow(): Promise<void> {
    await this.states.insertIfMissing(this.ctx.db, this.row, RELAY_ROW_VERSION);
  }
}
