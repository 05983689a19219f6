/**
 * Time as the projection runner sees it: its stand-by, poll and heartbeat
 * timings go through this, so unit tests drive them with fake timers instead
 * of waiting on a busy machine's clock.
 */
export interface Clock {
  now(): number;
  /** Calls `fn` after `ms`; returns a cancel function. Timers never keep the process alive. */
  setTimeout(fn: () => void, ms: number): () => void;
}

/**
 * The real clock. It looks the global timer functions up on every call, so
 * Jest's fake timers (installed after import) drive it as well.
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const timer = setTimeout(fn, ms);
    timer.unref?.();
    return () => clearTimeout(timer);
  },
};

/** Resolves after `ms` on `clock`, or as soon as `wake` resolves, whichever comes first. */
export function sleep(clock: Clock, ms: number, wake?: Promise<void>): Promise<void> {
  return new Promise<void>((resolve) => {
    const cancel = clock.setTimeout(resolve, ms);
    void wake?.then(() => {
      cancel();
      resolve();
    });
  });
}
