/** A cancellable timer handle. */
export interface CacheTimer {
  cancel(): void;
}

/**
 * The cache's source of time: wall-clock readings for entry timestamps and the timers
 * behind every wait (lock leases, waiter deadlines, heartbeats). Inject one (with
 * `random`) to test interleavings deterministically; the default is the system clock.
 */
export interface CacheClock {
  /** Epoch milliseconds. */
  now(): number;
  /** Runs `callback` after `ms`; a pending timer never keeps the process alive. */
  setTimer(callback: () => void, ms: number): CacheTimer;
}

/** `Date.now` and unref'd `setTimeout`. */
export const systemClock: CacheClock = {
  now: () => Date.now(),
  setTimer(callback, ms) {
    const timer = setTimeout(callback, Math.max(0, ms));
    timer.unref();
    return { cancel: () => clearTimeout(timer) };
  },
};

/** Resolves after `ms` on `clock`. */
export function delay(clock: CacheClock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimer(resolve, ms));
}
