import type { CacheClock } from '../core/clock';
import type { KeySignal, OutgoingMessage } from '../redis/feed-messages';

/**
 * Lock waiters of this instance, woken by the lock holder's outcome for their key: a
 * local holder signals directly, a holder on another instance through the feed. A waiter
 * registers before it re-checks the store, so an outcome landing in between is not missed.
 */
export class LockWaiters {
  private readonly waiters = new Map<string, Set<(signal: KeySignal) => void>>();

  constructor(
    private readonly clock: CacheClock,
    /** Publishes to the other instances (never rejects; nothing in L1-only mode). */
    private readonly publish: (message: OutgoingMessage) => Promise<void> = () => Promise.resolve(),
  ) {}

  /** Tells lock waiters everywhere that this flight's factory failed. */
  publishFailure(id: string, reason: string, code?: string): Promise<void> {
    const short = { reason: reason.slice(0, 200), ...(code && { code: code.slice(0, 60) }) };
    this.signal(id, { kind: 'failed', ...short });
    return this.publish({ k: 'failed', id, ...short });
  }

  /** Tells lock waiters everywhere that the lock is free and no new value was written. */
  publishReleased(id: string): Promise<void> {
    this.signal(id, { kind: 'released' });
    return this.publish({ k: 'released', id });
  }

  /** The next signal for `id` (the lock holder's outcome, here or on another instance), or `timeout` after `timeoutMs`. */
  wait(id: string, timeoutMs: number): { promise: Promise<KeySignal>; cancel: () => void } {
    let settle: (signal: KeySignal) => void = () => undefined;
    const promise = new Promise<KeySignal>((resolve) => (settle = resolve));
    const set = this.waiters.get(id) ?? new Set();
    this.waiters.set(id, set);
    set.add(settle);
    const timer = this.clock.setTimer(() => settle({ kind: 'timeout' }), timeoutMs);
    const cancel = () => {
      timer.cancel();
      set.delete(settle);
      if (set.size === 0 && this.waiters.get(id) === set) this.waiters.delete(id);
    };
    void promise.finally(cancel);
    return { promise, cancel };
  }

  signal(id: string, signal: KeySignal): void {
    for (const wake of this.waiters.get(id) ?? []) wake(signal);
  }

  /** Wakes everyone (shutdown). */
  stop(): void {
    for (const wake of [...this.waiters.values()].flatMap((set) => [...set])) wake({ kind: 'timeout' });
    this.waiters.clear();
  }
}
