import { Logger } from '@nestjs/common';
import type { Queryable } from '../../postgres/queryable';
import { type Clock, sleep } from '../clock';
import { errorCodeOf, isTransient, RetryStreak, type RetryReport, TRANSIENT_REPORT_AFTER } from './transient';

/** What one step of a projection's work came to. */
export type StepOutcome =
  | 'worked'
  | 'idle'
  /** Nothing this instance may do: let the lock go for a while. `newer-code`: another instance runs a newer version. */
  | { standBy: 'newer-code' | 'nothing-to-do'; message: string };

/** The projection's work, done only while this instance holds its lock. */
export interface ProjectionWork {
  /** Runs once after the lock is taken, before the first step. */
  onAcquired(sql: Queryable): Promise<void>;
  /** Runs after each failed attempt to take the lock (another instance holds it). */
  standingBy(): Promise<void>;
  step(sql: Queryable): Promise<StepOutcome>;
  /** The lock is gone (let go or lost): forget whatever belonged to this tenure. */
  onReleased(): void;
}

/** The lock as the runner needs it (`LockConnection` in production). */
export interface ProjectionLock {
  readonly held: boolean;
  readonly sql: Queryable;
  tryAcquire(): Promise<boolean>;
  release(): Promise<void>;
  close(): Promise<void>;
}

export interface RunnerOptions {
  clock: Clock;
  /** How long `stop()` waits for a step in flight (e.g. on a frozen link) before dropping the lock connection under it. */
  stopGraceMs: number;
  /** Longest sleep between polls of the holder when no NOTIFY arrives; stand-bys try the lock every 2 polls. */
  pollMs: number;
  /** Told about every failed attempt (the step threw), before the backoff: for a metric. */
  onFailure?: (error: unknown) => void;
}

/**
 * Stand-by lengths, in polls: long while newer code runs elsewhere, short when this instance
 * merely has nothing to do. After noticing it lost its session (or failing while holding), an
 * instance waits two polls from then: a standby, which tries every two polls, notices the free
 * lock first, so a healthy standby takes over rather than the instance in trouble.
 */
export const STAND_BY_POLLS = { 'newer-code': 20, 'nothing-to-do': 4, 'lost-lock': 2 } as const;

/**
 * Runs one projection on the instance that holds its session advisory lock;
 * others stand by and take over when the holder's session ends. The loop
 * polls (or wakes on a notification), steps while it holds the lock, and
 * lets the lock go after any error so a fresh tenure starts clean. Errors
 * never stop it: the work is tried again with backoff (see `RetryStreak`);
 * only the work itself stops a phase, on an event it cannot decode or apply.
 */
export class ProjectionRunner {
  private running = false;
  private loop?: Promise<void>;
  private wakeUp: () => void = () => undefined;
  private wakeSignal = this.newWakeSignal();
  /** Held in the previous iteration: noticing a lost lock needs the last known state. */
  private tenure = false;
  /** After yielding, do not compete for the lock before this time. */
  private standByUntil = 0;
  private lastStandBy?: string;
  private firstAttemptDone?: () => void;
  private readonly logger: Logger;
  private readonly retries: RetryStreak;

  constructor(
    readonly name: string,
    private readonly lock: ProjectionLock,
    private readonly work: ProjectionWork,
    private readonly options: RunnerOptions,
  ) {
    this.logger = new Logger(`Projection:${name}`);
    this.retries = new RetryStreak('projection', options.clock, options.pollMs);
  }

  /** The streak of failed attempts this instance is retrying, once it is long enough to report. */
  get retrying(): RetryReport | null {
    return this.retries.report();
  }

  /** True while this instance holds the lock and applies events. */
  get active(): boolean {
    return this.lock.held;
  }

  /**
   * Starts the loop. Resolves once the first attempt at the lock is over:
   * when this instance took it, the projection's row and live tables exist.
   */
  start(): Promise<void> {
    if (this.running) return Promise.resolve();
    this.running = true;
    return new Promise<void>((resolve) => {
      this.firstAttemptDone = resolve;
      this.loop = this.run();
    });
  }

  /** Wakes the loop (new events appended). */
  notify(): void {
    this.wakeUp();
  }

  /** Wakes the loop after an operator command, cutting a stand-by short: the command may have given it work. */
  nudge(): void {
    this.standByUntil = 0;
    this.wakeUp();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.notify();
    const stopped = await Promise.race([
      this.loop?.then(() => true),
      sleep(this.options.clock, this.options.stopGraceMs).then(() => false),
    ]);
    if (stopped) await this.endTenure();
    await this.lock.close();
    await this.loop;
    if (this.tenure) this.work.onReleased();
    this.tenure = false;
  }

  private newWakeSignal(): Promise<void> {
    return new Promise<void>((resolve) => (this.wakeUp = resolve));
  }

  private async run(): Promise<void> {
    while (this.running) {
      const wake = this.wakeSignal;
      let worked = false;
      try {
        worked = await this.iterate();
      } catch (error) {
        this.attempted();
        if (!this.running) break;
        await this.failed(error);
      }
      if (!worked && this.running) {
        await sleep(this.options.clock, this.lock.held ? this.options.pollMs : this.options.pollMs * 2, wake);
        if (wake === this.wakeSignal) this.wakeSignal = this.newWakeSignal();
      }
    }
  }

  /** One pass: notice a lost lock, take a free one when allowed, then step; true when it did work. */
  private async iterate(): Promise<boolean> {
    if (this.tenure && !this.lock.held) {
      this.logger.warn('lost the projection lock (session ended): standing by');
      await this.standBy('lost-lock');
      return false;
    }
    if (!this.lock.held) {
      if (this.options.clock.now() < this.standByUntil) return false;
      if (!(await this.lock.tryAcquire())) {
        this.recovered(); // another instance runs it: nothing of ours is failing
        this.attempted();
        await this.work.standingBy();
        return false;
      }
      this.tenure = true;
      this.logger.log('acquired the projection lock: this instance runs it');
      await this.work.onAcquired(this.lock.sql);
    }
    this.attempted();
    const outcome = await this.work.step(this.lock.sql);
    this.recovered();
    if (outcome === 'worked') {
      this.lastStandBy = undefined;
      return true;
    }
    if (outcome === 'idle') return false;
    if (this.lastStandBy !== outcome.message) this.logger.warn(outcome.message);
    this.lastStandBy = outcome.message;
    await this.standBy(outcome.standBy);
    return false;
  }

  /** Lets the lock go (if held) and does not compete for it again for a while (`forMs`, else the reason's polls). */
  private async standBy(reason: keyof typeof STAND_BY_POLLS, forMs?: number): Promise<void> {
    const held = this.tenure;
    await this.endTenure();
    if (held || reason !== 'lost-lock' || forMs !== undefined) {
      this.standByUntil = this.options.clock.now() + (forMs ?? this.options.pollMs * STAND_BY_POLLS[reason]);
    }
  }

  /**
   * A failed attempt: counted, logged when the streak starts and once when it becomes long enough
   * to report (not on every attempt, so an outage does not flood the log), then a backoff that
   * doubles up to its bound. The lock goes too: a fresh tenure starts clean, and a healthy
   * standby may take over meanwhile.
   */
  private async failed(error: unknown): Promise<void> {
    const { attempts, delayMs } = this.retries.failed(error);
    this.options.onFailure?.(error);
    const kind = isTransient(error) ? 'transient error' : 'error';
    const what = `${kind} ${errorCodeOf(error) || '(no SQLSTATE)'}: ${(error as Error)?.message ?? String(error)}`;
    if (attempts === 1) this.logger.warn(`${what}; retrying in ${delayMs} ms`);
    if (attempts === TRANSIENT_REPORT_AFTER) this.logger.error(`still failing after ${attempts} attempts (${what}); retrying with backoff`);
    await this.standBy('lost-lock', delayMs);
  }

  private recovered(): void {
    const attempts = this.retries.succeeded();
    if (attempts) this.logger.log(`recovered after ${attempts} failed attempt(s)`);
  }

  private attempted(): void {
    this.firstAttemptDone?.();
    this.firstAttemptDone = undefined;
  }

  private async endTenure(): Promise<void> {
    if (this.tenure) this.work.onReleased();
    this.tenure = false;
    await this.lock.release();
  }
}
