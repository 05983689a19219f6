import type { CircuitBreaker } from './circuit-breaker';
import { monotonic, type CacheClock, type CacheTimer } from '../core/clock';

/**
 * What one guarded Redis call came to. `unreachable`: not attempted, Redis was already known
 * to be down (the breaker is open); `unknown`: attempted, but no reply in time or the
 * connection failed, so whether it took effect is unknown. Neither is ever a success.
 */
export type RedisOutcome<T> = { ok: true; value: T } | { ok: false; reason: 'unreachable' | 'unknown'; error?: unknown };

/** What the guard reports besides outcomes. */
export interface RedisGuardHooks {
  /** A call succeeded: Redis answers (pending invalidations can be replayed now). */
  onSuccess(): void;
  /** How late a timer of this process fired (event-loop lag), in ms. */
  onLag(lagMs: number): void;
  /** A call got no reply in time; `stalled` when the wait overlapped a stall of this process. */
  onTimeout(stalled: boolean): void;
}

/** Hooks that report nothing (tests, tools). */
export const NO_HOOKS: RedisGuardHooks = { onSuccess: () => undefined, onLag: () => undefined, onTimeout: () => undefined };

/** An error that is about the value or the caller, not about Redis: it never counts against the breaker. */
export class NotARedisFailure extends Error {}

const UNREACHABLE = { ok: false, reason: 'unreachable' } as const;

/**
 * Bounds every Redis call and decides what a missing reply means. A timeout must measure
 * Redis's silence, not this process's: when the timer fires late (the event loop was
 * blocked: a burst, a GC pause, synchronous work) the stalled time does not count and the
 * wait is extended by it, and before declaring a timeout the guard lets the event loop read
 * replies that are already waiting (`setImmediate` runs after the I/O phase). A timeout that
 * overlapped a stall is not counted as a breaker failure. Extensions are capped at
 * `maxStallMs`, so every call is still bounded by `timeoutMs + maxStallMs`.
 */
export class RedisGuard {
  /** Lateness of a timer beyond which the process counts as stalled. */
  readonly stallThresholdMs: number;

  constructor(
    readonly breaker: CircuitBreaker,
    readonly timeoutMs: number,
    readonly maxStallMs: number,
    private readonly clock: CacheClock,
    private readonly hooks: RedisGuardHooks,
  ) {
    this.stallThresholdMs = Math.max(20, Math.floor(timeoutMs / 10));
  }

  /** Runs `operation` unless Redis is known to be unreachable; never throws. */
  async run<T>(operation: () => Promise<T>): Promise<RedisOutcome<T>> {
    const pass = this.breaker.enter();
    if (pass === 'skip') return UNREACHABLE;
    const result = await this.bounded(operation);
    if (result.ok) {
      this.breaker.succeeded(pass);
      this.hooks.onSuccess();
      return result;
    }
    if (result.stalled || result.error instanceof NotARedisFailure) this.breaker.abandoned(pass);
    else this.breaker.failed(pass);
    return { ok: false, reason: 'unknown', error: result.error };
  }

  /**
   * Runs `operation` (bounded) even while the breaker is open: how the pending-invalidation
   * probe finds out that Redis answers again without waiting for the breaker's own probe.
   */
  async probe<T>(operation: () => Promise<T>): Promise<RedisOutcome<T>> {
    const result = await this.bounded(operation);
    if (!result.ok) return { ok: false, reason: 'unknown', error: result.error };
    this.answered();
    return result;
  }

  /** Redis answered a call made outside the guard (a heartbeat): close the breaker, replay what is owed. */
  answered(): void {
    this.breaker.answered();
    this.hooks.onSuccess();
  }

  /** Runs `operation` and answers its value, or `fallback` on any failure. */
  async value<T>(operation: () => Promise<T>, fallback: T): Promise<T> {
    const outcome = await this.run(operation);
    return outcome.ok ? outcome.value : fallback;
  }

  private bounded<T>(operation: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error?: unknown; stalled: boolean }> {
    return new Promise((resolve) => {
      let done = false;
      let stalledMs = 0;
      let timer: CacheTimer | undefined;
      const finish = (result: { ok: true; value: T } | { ok: false; error?: unknown; stalled: boolean }) => {
        if (done) return;
        done = true;
        timer?.cancel();
        resolve(result);
      };
      const arm = (ms: number) => {
        const due = monotonic(this.clock) + ms;
        timer = this.clock.setTimer(() => {
          const late = Math.max(0, monotonic(this.clock) - due);
          this.hooks.onLag(late);
          // Timers run before the poll phase: a reply that arrived during a stall is read before this check runs.
          setImmediate(() => {
            if (done) return;
            if (late >= this.stallThresholdMs && stalledMs + late <= this.maxStallMs) {
              stalledMs += late;
              return arm(late); // the stalled time was not Redis's silence: wait that long again
            }
            this.hooks.onTimeout(stalledMs > 0 || late >= this.stallThresholdMs);
            finish({
              ok: false,
              error: new Error('Redis did not answer in time'),
              stalled: stalledMs > 0 || late >= this.stallThresholdMs,
            });
          });
        }, ms);
      };
      arm(this.timeoutMs);
      new Promise<T>((run) => run(operation())).then(
        (value) => finish({ ok: true, value }),
        (error: unknown) => finish({ ok: false, error, stalled: false }),
      );
    });
  }
}
