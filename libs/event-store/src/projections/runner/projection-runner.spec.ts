import { Logger } from '@nestjs/common';
import type { Queryable } from '../../postgres/queryable';
import { systemClock } from '../clock';
import { ProjectionLock, ProjectionRunner, ProjectionWork, StepOutcome } from './projection-runner';

const POLL = 100;

/** A lock another instance may hold (`takenElsewhere`) and that can be lost (`lose()`), recording every attempt. */
class FakeLock implements ProjectionLock {
  held = false;
  takenElsewhere = false;
  readonly attempts: number[] = [];
  /** Answers every statement with no rows. */
  readonly sql: Queryable = { query: async () => [], execute: async () => 0 };
  async tryAcquire() {
    this.attempts.push(Date.now());
    this.held = !this.takenElsewhere;
    return this.held;
  }
  async release() {
    this.held = false;
  }
  closedAt?: number;
  private onClose: Array<() => void> = [];
  /** Resolves when `close()` drops the connection (what a statement hung on a frozen link waits for). */
  closed = () => new Promise<void>((resolve) => this.onClose.push(resolve));
  async close() {
    this.held = false;
    this.closedAt = Date.now();
    this.onClose.forEach((f) => f());
  }
  lose() {
    this.held = false;
  }
}

/** Work whose next outcomes the test queues; it records when each step ran. */
class ScriptedWork implements ProjectionWork {
  readonly steps: number[] = [];
  acquired = 0;
  released = 0;
  next: Array<StepOutcome | Error | (() => Promise<StepOutcome>)> = [];
  standingBys = 0;
  onAcquiredTakes?: Promise<void>;
  async onAcquired() {
    await this.onAcquiredTakes;
    this.acquired++;
  }
  async standingBy() {
    this.standingBys++;
  }
  async step(): Promise<StepOutcome> {
    this.steps.push(Date.now());
    const outcome = this.next.shift() ?? 'idle';
    if (outcome instanceof Error) throw outcome;
    return typeof outcome === 'function' ? outcome() : outcome;
  }
  onReleased() {
    this.released++;
  }
}

describe('ProjectionRunner timings (fake timers)', () => {
  let lock: FakeLock;
  let work: ScriptedWork;
  let runner: ProjectionRunner;
  // `start()` resolves after the first lock attempt, which only advancing the fake clock brings about:
  // tests start the runner without awaiting it (`void`), then advance.
  const advance = (ms: number) => jest.advanceTimersByTimeAsync(ms);

  beforeAll(() => Logger.overrideLogger(false));
  afterAll(() => Logger.overrideLogger(['log', 'error', 'warn']));
  beforeEach(() => {
    jest.useFakeTimers({ now: 1_000_000 });
    lock = new FakeLock();
    work = new ScriptedWork();
    runner = new ProjectionRunner('p', lock, work, { clock: systemClock, pollMs: POLL, stopGraceMs: 10 * POLL });
  });
  afterEach(async () => {
    const stopped = runner.stop();
    await advance(POLL * 2);
    await stopped;
    jest.useRealTimers();
  });

  it('the holder polls once per poll interval while idle; work is done back to back', async () => {
    work.next = ['worked', 'worked'];
    void runner.start();
    await advance(0);
    expect(work.steps).toHaveLength(3);
    await advance(POLL * 5 - 1);
    expect(work.steps).toHaveLength(7);
    const gaps = work.steps.slice(3).map((t, i) => t - work.steps[i + 2]);
    expect(gaps).toEqual([POLL, POLL, POLL, POLL]);
    expect(work.acquired).toBe(1);
  });

  it('a standby tries the lock every two polls and starts working as soon as it is free', async () => {
    lock.takenElsewhere = true;
    void runner.start();
    await advance(POLL * 6);
    expect(lock.attempts.map((t) => t - 1_000_000)).toEqual([0, 2 * POLL, 4 * POLL, 6 * POLL]);
    expect([runner.active, work.standingBys]).toEqual([false, 4]);
    lock.takenElsewhere = false;
    await advance(2 * POLL);
    expect(runner.active).toBe(true);
    expect(work.steps).toHaveLength(1);
  });

  it('notify() wakes a sleeping holder at once', async () => {
    void runner.start();
    await advance(10);
    expect(work.steps).toHaveLength(1);
    runner.notify();
    await advance(0);
    expect(work.steps).toHaveLength(2);
  });

  it('stands by after yielding: no attempt for 20 polls for newer code, 4 when there is nothing to do', async () => {
    work.next = [
      { standBy: 'newer-code', message: 'newer' },
      { standBy: 'nothing-to-do', message: 'idle' },
    ];
    void runner.start();
    await advance(0);
    expect([runner.active, work.released]).toEqual([false, 1]);
    await advance(30 * POLL);
    expect(lock.attempts.slice(0, 3).map((t) => t - 1_000_000)).toEqual([0, 20 * POLL, 24 * POLL]);
    expect(work.released).toBe(2);
  });

  it('nudge() (an operator command) cuts a stand-by short', async () => {
    work.next = [{ standBy: 'newer-code', message: 'newer' }];
    void runner.start();
    await advance(0);
    runner.nudge();
    await advance(0);
    expect(lock.attempts).toHaveLength(2);
    expect(runner.active).toBe(true);
  });

  it('an error ends the tenure (lock released, per-tenure state dropped); the lock is tried again two polls later', async () => {
    work.next = [new Error('connection terminated')];
    void runner.start();
    await advance(0);
    expect([runner.active, work.released]).toEqual([false, 1]);
    await advance(2 * POLL - 1);
    expect(lock.attempts).toHaveLength(1);
    await advance(1);
    expect([runner.active, work.acquired]).toEqual([true, 2]);
  });

  it('failing to take the lock (database down) is retried with backoff (2, 4, 8, 16 polls), reported from the third attempt', async () => {
    let down = true;
    const tryAcquire = lock.tryAcquire.bind(lock);
    lock.tryAcquire = async () => {
      if (!down) return tryAcquire();
      lock.attempts.push(Date.now());
      throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    };
    void runner.start();
    await advance(6 * POLL - 1);
    expect(runner.retrying).toBeNull();
    await advance(24 * POLL + 1);
    expect(lock.attempts.map((t) => t - 1_000_000)).toEqual([0, 2 * POLL, 6 * POLL, 14 * POLL, 30 * POLL]);
    expect(runner.retrying).toEqual({
      scope: 'projection',
      attempts: 5,
      code: 'ECONNREFUSED',
      reason: 'connect ECONNREFUSED',
      since: new Date(1_000_000).toISOString(),
      nextAttemptAt: new Date(1_000_000 + 30 * POLL + 32 * POLL).toISOString(),
    });
    down = false;
    await advance(32 * POLL);
    expect(runner.active).toBe(true);
    expect(runner.retrying).toBeNull();
  });

  it('a step failing with a statement cancel (57014) is retried with backoff, never stops the runner', async () => {
    const cancel = () => Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' });
    const failures: unknown[] = [];
    runner = new ProjectionRunner('p', lock, work, {
      clock: systemClock,
      pollMs: POLL,
      stopGraceMs: 1000,
      onFailure: (e) => failures.push(e),
    });
    work.next = [cancel(), cancel(), cancel(), 'worked'];
    void runner.start();
    await advance(6 * POLL + 1);
    expect(work.steps.map((t) => t - 1_000_000)).toEqual([0, 2 * POLL, 6 * POLL]);
    expect(runner.retrying).toMatchObject({ attempts: 3, code: '57014' });
    await advance(8 * POLL);
    expect(work.steps.slice(0, 4).map((t) => t - 1_000_000)).toEqual([0, 2 * POLL, 6 * POLL, 14 * POLL]);
    expect(runner.retrying).toBeNull();
    expect(failures).toHaveLength(3);
  });

  it('a lock lost between steps (session ended by the server) ends the tenure; the next try is two polls after noticing', async () => {
    void runner.start();
    await advance(0);
    lock.lose();
    await advance(POLL);
    expect(work.released).toBe(1);
    expect(work.steps).toHaveLength(1);
    await advance(2 * POLL - 1);
    expect(lock.attempts).toHaveLength(1);
    await advance(1);
    expect(lock.attempts.map((t) => t - 1_000_000)).toEqual([0, 3 * POLL]);
    expect(runner.active).toBe(true);
  });

  it('stop() waits for a step in flight only up to its grace, then drops the lock connection under it', async () => {
    work.next = [
      async () => {
        await lock.closed();
        throw new Error('Connection terminated');
      },
    ];
    void runner.start();
    await advance(0);
    let stopped = false;
    const stopping = runner.stop().then(() => (stopped = true));
    await advance(10 * POLL - 1);
    expect([stopped, lock.closedAt]).toEqual([false, undefined]);
    await advance(1);
    await stopping;
    expect(lock.closedAt! - 1_000_000).toBe(10 * POLL);
    expect(work.released).toBe(1);
  });

  it('start() resolves once the first lock attempt is over: taken (row and tables made) or found held elsewhere', async () => {
    let tablesMade: () => void = () => undefined;
    work.onAcquiredTakes = new Promise((resolve) => (tablesMade = resolve));
    let started = false;
    const starting = runner.start().then(() => (started = true));
    await advance(0);
    expect(started).toBe(false);
    tablesMade();
    await starting;
    expect(work.acquired).toBe(1);

    const standby = new ProjectionRunner('q', Object.assign(new FakeLock(), { takenElsewhere: true }), new ScriptedWork(), {
      clock: systemClock,
      pollMs: POLL,
      stopGraceMs: POLL,
    });
    await standby.start();
    expect(standby.active).toBe(false);
    const stopping = standby.stop();
    await advance(2 * POLL);
    await stopping;
  });
});
