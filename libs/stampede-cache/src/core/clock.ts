/** A cancellable timer handle. */
export interface CacheTimer {
  cancel(): void;
}

/**
 * The cache's source of time: wall-clock readings for entry timestamps, a monotonic
 * reading for every local duration (timeouts, the trust window, recompute times), and the
 * timers behind every wait (lock leases, waiter deadlines, heartbeats). Inject one (with
 * `random`) to test interleavings deterministically; the default is the system clock.
 */
export interface CacheClock {
  /** Epoch milliseconds: stored in entries, compared only with readings of this same process. */
  now(): number;
  /**
   * Milliseconds from an arbitrary origin that never go back (`performance.now()`): what
   * local durations are measured with, so a wall-clock step (NTP) changes no timeout or trust
   * decision. Optional for injected clocks: without it, {@link monotonic} falls back to `now()`.
   */
  monotonic?(): number;
  /** Runs `callback` after `ms`; a pending timer never keeps the process alive. */
  setTimer(callback: () => void, ms: number): CacheTimer;
}

/** `Date.now` and unref'd `setTimeout`. */
export const systemClock: CacheClock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
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

/** The clock's monotonic reading (its wall clock when it has none). */
export function monotonic(clock: CacheClock): number {
  return clock.monotonic ? clock.monotonic() : clock.now();
}
