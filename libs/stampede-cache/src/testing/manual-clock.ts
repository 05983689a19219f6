import type { CacheClock, CacheTimer } from '../core/clock';

interface PendingTimer {
  at: number;
  seq: number;
  callback: () => void;
}

/**
 * A clock the test moves by hand: `now()` only changes in {@link advance}, which runs the
 * timers that fall due, in order, letting promises settle after each. Unit tests use it to
 * control every wait in the cache (leases, deadlines, heartbeats) without sleeping.
 */
export class ManualClock implements CacheClock {
  private timers: PendingTimer[] = [];
  private seq = 0;

  constructor(private time = 1_700_000_000_000) {}

  now(): number {
    return this.time;
  }

  monotonic(): number {
    return this.time;
  }

  /**
   * A stall of this process: time moves by `ms` and no timer runs meanwhile. Timers that fell
   * due fire late, on the next {@link fireDue} or {@link advance}.
   */
  stall(ms: number): void {
    this.time += ms;
  }

  /** Fires the timers that are due now, synchronously, as the event loop's timer phase does. */
  fireDue(): void {
    for (;;) {
      const due = this.timers.filter((t) => t.at <= this.time).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) return;
      this.timers = this.timers.filter((t) => t !== due);
      due.callback();
    }
  }

  setTimer(callback: () => void, ms: number): CacheTimer {
    const timer = { at: this.time + Math.max(0, ms), seq: this.seq++, callback };
    this.timers.push(timer);
    return { cancel: () => (this.timers = this.timers.filter((t) => t !== timer)) };
  }

  /** Moves time forward by `ms`, firing due timers one by one. */
  async advance(ms: number): Promise<void> {
    const target = this.time + ms;
    await settle();
    for (;;) {
      const due = this.timers.filter((t) => t.at <= target).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.time = Math.max(this.time, due.at);
      due.callback();
      await settle();
    }
    this.time = target;
    await settle();
  }

  /** Timers not yet fired (for assertions that nothing is left waiting). */
  get pending(): number {
    return this.timers.length;
  }
}

/** Lets every promise chain that is ready run to completion (no timers involved). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** A promise the test resolves or rejects when it chooses: controls when a factory finishes. */
export function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (error: unknown) => void } {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
