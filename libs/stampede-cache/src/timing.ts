import { CacheFactoryTimeoutError } from './errors';

/** Resolves after `ms`; unref'd so a pending wait never keeps the process alive. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)).unref());
}

/** Rejects with `onTimeout()` if `promise` has not settled within `ms`. The timer is always cleared. */
export function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), Math.max(0, ms));
    timer.unref();
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** Runs a factory with an AbortSignal that fires at `hardTimeoutMs`, rejecting with a typed timeout. */
export function runBounded<T>(key: string, hardTimeoutMs: number, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let started: Promise<T>;
  try {
    started = Promise.resolve(run(controller.signal));
  } catch (error) {
    started = Promise.reject(error);
  }
  return withTimeout(started, hardTimeoutMs, () => {
    const error = new CacheFactoryTimeoutError(key, hardTimeoutMs);
    controller.abort(error);
    return error;
  });
}
