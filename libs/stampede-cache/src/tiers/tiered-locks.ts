import type { CacheClock, CacheTimer } from '../core/clock';
import type { RedisGuard } from '../redis/redis-guard';
import type { CacheStore, LockAttempt } from '../stores/cache-store';

/** How long the records that fence in-flight computations are kept (raised by per-call options, never lowered). */
export interface Lifetimes {
  /** Fence records outlive every computation that may still write: > max(lockTtl, hardTimeout). */
  fenceTtlMs: number;
  /** Tag versions bumped by an invalidation are kept at least this long. */
  tagTtlMs: number;
}

/**
 * The per-key lock of {@link TieredStore}, with the rule for unknown outcomes: a lock
 * attempt whose reply did not arrive in time was not acquired. Only when Redis was known to
 * be unreachable *before* the call is the lock granted without Redis (fence 0: the value is
 * served but never written to L2), and then to one computation per key on this instance.
 */
export class TieredLocks {
  /** Keys computed here without the lock, by token. */
  private readonly degraded = new Map<string, string>();

  constructor(
    private readonly l2: CacheStore,
    private readonly redis: RedisGuard,
    private readonly lifetimes: Lifetimes,
  ) {}

  /** Takes the key's lock; on an unknown outcome, releases it by token (in case it was set), best effort. */
  async tryLock(id: string, token: string, ttlMs: number, fenceTtlMs = this.lifetimes.fenceTtlMs): Promise<LockAttempt> {
    const outcome = await this.redis.run(() => this.l2.tryLock(id, token, ttlMs, fenceTtlMs));
    if (outcome.ok) return outcome.value;
    if (outcome.reason === 'unreachable') {
      if (this.degraded.has(id)) return { acquired: false, remainingMs: ttlMs };
      this.degraded.set(id, token);
      return { acquired: true, fence: 0 };
    }
    void this.redis.run(() => this.l2.unlock(id, token));
    return { acquired: false, remainingMs: this.redis.timeoutMs };
  }

  /**
   * The smallest fence a computation that started at or after `since` (wall clock of this
   * instance, `now` being its current reading) can have: the store's clock minus the local
   * time elapsed since. Undefined when the store does not answer.
   */
  async fenceSince(id: string, since: number, now: number): Promise<number | undefined> {
    const clock = await this.redis.value(() => this.l2.fenceClock(id), undefined);
    return clock === undefined ? undefined : clock - Math.max(0, now - since) * 1_000;
  }

  /** True: renewed; false: the lock is no longer ours; undefined: unknown (Redis did not answer), try again. */
  async renewLock(id: string, token: string, ttlMs: number): Promise<boolean | undefined> {
    if (this.degraded.get(id) === token) return true;
    const outcome = await this.redis.run(() => this.l2.renewLock(id, token, ttlMs));
    return outcome.ok ? outcome.value : undefined;
  }

  unlock(id: string, token: string): Promise<boolean> {
    if (this.degraded.get(id) === token) {
      this.degraded.delete(id);
      return Promise.resolve(true);
    }
    return this.redis.value(() => this.l2.unlock(id, token), false);
  }

  /**
   * Renews the lock every lockTtl/3 while the factory runs, so the lease only lapses when
   * this process stops. A renewal with no answer (unknown) is retried at the next period;
   * only a definite "not yours any more" stops it.
   */
  holdLease(id: string, token: string, lockTtl: number, clock: CacheClock): { stop: () => void } {
    let timer: CacheTimer | undefined;
    let stopped = false;
    const schedule = () => {
      timer = clock.setTimer(
        () => {
          void this.renewLock(id, token, lockTtl).then((renewed) => renewed !== false && !stopped && schedule());
        },
        Math.max(1, Math.floor(lockTtl / 3)),
      );
    };
    schedule();
    return {
      stop: () => {
        stopped = true;
        timer?.cancel();
      },
    };
  }
}
