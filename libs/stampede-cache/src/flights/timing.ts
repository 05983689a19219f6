import { monotonic, systemClock, type CacheClock } from '../core/clock';
import { CacheFactoryTimeoutError } from '../core/errors';

/** Rejects with `onTimeout()` if `promise` has not settled within `ms`. The timer is always cleared. */
export function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => Error, clock: CacheClock = systemClock): Promise<T> {
  let timer: { cancel(): void } | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = clock.setTimer(() => reject(onTimeout()), ms);
  });
  return Promise.race([promise, deadline]).finally(() => timer?.cancel());
}

/** Runs a factory with an AbortSignal that fires at `hardTimeoutMs`, rejecting with a typed timeout. */
export function runBounded<T>(
  key: string,
  hardTimeoutMs: number,
  run: (signal: AbortSignal) => Promise<T>,
  clock: CacheClock = systemClock,
): Promise<T> {
  const controller = new AbortController();
  // A factory that throws instead of rejecting rejects all the same.
  const started = new Promise<T>((resolve) => resolve(run(controller.signal)));
  return withTimeout(
    started,
    hardTimeoutMs,
    () => {
      const error = new CacheFactoryTimeoutError(key, hardTimeoutMs);
      controller.abort(error);
      return error;
    },
    clock,
  );
}

/**
 * Runs `run` and reports how long its promise took to settle, on the monotonic clock: its own
 * time only, not the wait of whoever awaits it (a busy event loop, a timeout race around it).
 */
export function timed<T>(clock: CacheClock, run: () => Promise<T>, onDuration: (ms: number) => void): Promise<T> {
  const began = monotonic(clock);
  return new Promise<T>((resolve) => resolve(run())).finally(() => onDuration(monotonic(clock) - began));
}
