import type { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { CacheKey } from '../core/cache-key';
import type { ComputeContext } from '../core/cache-result';
import { tracedFactory } from '../core/cache-tracing';
import { monotonic, type CacheClock } from '../core/clock';
import { CacheFactoryFailedError, CacheFactoryTimeoutError, RemoteFactoryError, StampedeCacheError } from '../core/errors';
import { computeEntry, isStale, newEnough, servable } from './entries';
import { canonicalValue } from '../tiers/l1/frozen-values';
import type { CacheMetrics } from '../core/metrics';
import type { ResolvedEntryOptions } from '../core/options';
import type { CacheEntry, LockAttempt } from '../stores/cache-store';
import type { TieredStore } from '../tiers/tiered-store';
import { runBounded, timed } from './timing';

/** Everything one recomputation needs. */
export interface FlightRequest<T> {
  key: CacheKey;
  factory: (context: ComputeContext<T>) => Promise<T>;
  options: ResolvedEntryOptions;
  tags?: string[] | ((value: T) => string[]);
  isNegative?: (value: T) => boolean;
  label: string;
  /** The entry the caller saw: the delta to smooth, and the fail-safe fallback while servable. */
  previous?: CacheEntry;
  /** From forceRefresh/minComputedAt: a lock loser may not settle for `previous` or anything older. */
  minComputedAt?: number;
  /** `minComputedAt` as a fence (see TieredLocks.fenceSince), when the store answered: compared instead of wall clocks. */
  minFence?: number;
}

/** The entry a flight settled on; `fromStale` when it is an expired or fail-safe value. */
export interface FlightOutcome {
  entry: CacheEntry;
  fromStale: boolean;
}

/** Extra wait after a foreign lock's expiry, so our retry does not race its PX by a millisecond. */
const LOCK_EXPIRY_MARGIN_MS = 10;

/**
 * One recomputation of one key across instances: take the Redis lock (which issues the
 * computation's fence), re-check, run the factory under the hard timeout while renewing
 * the lock's lease, write (fenced), release the lock on every path. Lock losers serve the
 * stale value when allowed, else wait for the holder's `written` or `failed` message (or
 * the lease's expiry, when the holder died) without polling. They never compute without
 * the lock: past their deadline they get the stale value or a typed timeout.
 */
export class ComputeFlight {
  constructor(
    private readonly store: TieredStore,
    private readonly metrics: CacheMetrics,
    private readonly random: () => number,
    private readonly clock: CacheClock,
    private readonly logger: Logger,
  ) {}

  async run<T>(request: FlightRequest<T>): Promise<FlightOutcome> {
    const { key, options } = request;
    const token = randomUUID();
    const deadline = monotonic(this.clock) + options.hardTimeout;
    // Fences must outlive this call's computation, whatever its per-call hardTimeout and lockTtl.
    const longest = Math.max(options.lockTtl, options.hardTimeout);
    this.store.noteComputation(longest);
    const fenceTtl = longest + 5_000;
    const first = await this.store.locks.tryLock(key.id, token, options.lockTtl, fenceTtl);
    let lock: Extract<LockAttempt, { acquired: true }>;
    if (first.acquired) lock = first;
    else {
      const fallback = servable(request.previous, this.clock.now());
      if (fallback && request.minComputedAt === undefined) return { entry: fallback, fromStale: isStale(fallback, this.clock.now()) };
      this.metrics.lockWaits.inc({ cache: request.label });
      const waited = await this.waitForHolder(request, first, token, deadline, fenceTtl);
      if ('entry' in waited) return waited;
      lock = waited;
    }
    let written = false;
    try {
      // Re-check after the lock: another instance may have written while we were getting it.
      const found = await this.recheck(request);
      if (found) return found;
      const computed = await this.compute(request, lock.fence, token);
      written = computed.written;
      return computed.outcome;
    } finally {
      await this.store.locks.unlock(key.id, token);
      if (!written) await this.store.lockWaiters.publishReleased(key.id); // waiters try the lock at once rather than waiting out its lease
    }
  }

  /** Waits for the holder's outcome; takes the lock itself only once the holder's lease ran out. */
  private async waitForHolder<T>(
    request: FlightRequest<T>,
    attempt: LockAttempt,
    token: string,
    deadline: number,
    fenceTtl: number,
  ): Promise<FlightOutcome | Extract<LockAttempt, { acquired: true }>> {
    const { key, options } = request;
    while (!attempt.acquired) {
      const left = deadline - monotonic(this.clock);
      if (left <= 0) return this.giveUp(request, new CacheFactoryTimeoutError(key.id, options.hardTimeout));
      const waiter = this.store.lockWaiters.wait(key.id, Math.min(attempt.remainingMs + LOCK_EXPIRY_MARGIN_MS, left));
      try {
        const early = await this.recheck(request);
        if (early) return early;
        const signal = await waiter.promise;
        if (signal.kind === 'failed')
          return this.giveUp(request, new CacheFactoryFailedError(key.id, new RemoteFactoryError(signal.reason, signal.code)));
        // Written (or the lease ran out): take what was written; released: the lock is free, try it.
        const found = signal.kind === 'released' ? undefined : await this.recheck(request);
        if (found) return found;
      } finally {
        waiter.cancel();
      }
      attempt = await this.store.locks.tryLock(key.id, token, options.lockTtl, fenceTtl);
    }
    return attempt;
  }

  /** The holder failed or the deadline passed: the stale value at once, else the typed error. */
  private giveUp<T>(request: FlightRequest<T>, error: StampedeCacheError): FlightOutcome {
    const fallback = servable(request.previous, this.clock.now());
    if (fallback) return { entry: fallback, fromStale: true };
    throw error;
  }

  /** A fresh L2 entry newer than what the caller saw (and new enough for minComputedAt), if any. */
  private async recheck<T>(request: FlightRequest<T>): Promise<FlightOutcome | undefined> {
    const found = await this.store.readL2(request.key.id);
    const now = this.clock.now();
    if (!found || isStale(found, now)) return undefined;
    if (!newEnough(found, request.minComputedAt, request.minFence)) return undefined;
    const previous = request.previous;
    const newer = !previous || found.fence > previous.fence || found.expiresAt > previous.expiresAt;
    return newer ? { entry: found, fromStale: false } : undefined;
  }

  /** Runs the factory under the lock; `written` when a new value was stored (its waiters are told so). */
  private async compute<T>(request: FlightRequest<T>, fence: number, token: string): Promise<{ outcome: FlightOutcome; written: boolean }> {
    const { key, options, label } = request;
    const mark = this.store.mark();
    // Tags are stamped to outlive the computation; the write keeps them as long as the entry.
    const life = options.hardTimeout + 1_000;
    // Static tags are stamped before computing, so an invalidation during the compute wins.
    const stampedBefore =
      Array.isArray(request.tags) || request.tags === undefined
        ? await this.store.stampTags(request.tags ?? [], { ttlMs: life })
        : undefined;
    this.metrics.factoryRuns.inc({ cache: label });
    const startedAt = this.clock.now();
    const observe = once(this.metrics.factoryDuration.startTimer({ cache: label }));
    const lease = this.store.locks.holdLease(key.id, token, options.lockTtl, this.clock);
    // A tag invalidation makes this computation useless (its stamps are old): let waiters take the lock now.
    const unwatch = stampedBefore
      ? this.store.tagWatchers.watch(Object.keys(stampedBefore), () => {
          lease.stop();
          void this.store.locks.unlock(key.id, token).then(async (released) => {
            if (released) await this.store.lockWaiters.publishReleased(key.id);
          });
        })
      : () => undefined;
    try {
      const previous = request.previous?.value as T | undefined;
      let durationMs = 0; // XFetch's delta: the factory's own run time, from its call to its settling
      const run = (signal: AbortSignal) =>
        timed(
          this.clock,
          () => tracedFactory(key.id, () => request.factory({ key, signal, previous })),
          (ms) => (durationMs = ms),
        );
      const raw = await runBounded(key.id, options.hardTimeout, run, this.clock);
      observe();
      // Every caller, and every level, gets the value as JSON makes it, frozen (see frozen-values.ts).
      const { value, json } = canonicalValue(raw);
      const tags = typeof request.tags === 'function' ? await this.stampAfter(request.tags(value), fence, life) : stampedBefore;
      const entry = computeEntry({ request, value, startedAt, durationMs, now: this.clock.now(), fence, tags, random: this.random });
      // Untagged (stamps unknown) and non-JSON values are served to this flight's callers but never cached.
      const cacheable = tags !== undefined && (json !== undefined || raw === undefined);
      const written = cacheable && (await this.store.write(key.id, entry, mark));
      return { outcome: { entry, fromStale: false }, written };
    } catch (error) {
      observe();
      this.metrics.factoryErrors.inc({ cache: label });
      return { outcome: await this.failSafe(request, error, fence, mark), written: false };
    } finally {
      lease.stop();
      unwatch();
    }
  }

  /** Tags known only from the value: stamped now, and not cached if one changed since the computation began. */
  private async stampAfter(tags: string[], fence: number, life: number): Promise<Record<string, number> | undefined> {
    if (fence === 0) return undefined;
    const stamped = await this.store.stampTags(tags, { ttlMs: life, createAt: fence });
    return stamped && Object.values(stamped).every((version) => version <= fence) ? stamped : undefined;
  }

  /**
   * Serves the stale value and tells waiters everywhere at once. The value is written back
   * (only if it is still exactly the stored entry: no invalidation, no newer value) so that
   * nobody calls the failing origin again for `failSafeBackoff`; a value that was still
   * fresh keeps its expiry, an expired one is served as STALE until the backoff ends.
   */
  private async failSafe<T>(request: FlightRequest<T>, error: unknown, fence: number, mark: number): Promise<FlightOutcome> {
    const typed = error instanceof StampedeCacheError ? error : new CacheFactoryFailedError(request.key.id, error);
    const reason = error instanceof Error ? error.message : String(error);
    await this.store.lockWaiters.publishFailure(request.key.id, reason, errorCode(error));
    const now = this.clock.now();
    const fallback = servable(request.previous, now);
    if (!fallback) throw typed;
    this.logger.warn(`Serving stale value for "${request.key.id}" after a failed refresh: ${reason}`);
    const backoffUntil = now + request.options.failSafeBackoff;
    const expired = isStale(fallback, now);
    const extended: CacheEntry = expired
      ? {
          ...fallback,
          fence,
          valueFence: fallback.valueFence ?? fallback.fence,
          failSafe: true,
          expiresAt: Math.max(fallback.expiresAt, backoffUntil),
          staleUntil: Math.max(fallback.staleUntil, backoffUntil),
        }
      : { ...fallback, fence, valueFence: fallback.valueFence ?? fallback.fence, refreshAfter: backoffUntil };
    const kept = await this.store.write(request.key.id, extended, mark, fallback.fence);
    // Not what was asked for (a refresh failed): STALE, even when the old value is still fresh.
    return { entry: kept ? extended : fallback, fromStale: true };
  }
}

/** The error's code (or its driver's), kept when the failure is reported to other instances. */
function errorCode(error: unknown): string | undefined {
  const e = error as { code?: unknown; driverError?: { code?: unknown } };
  const code = e?.driverError?.code ?? e?.code;
  return typeof code === 'string' ? code : undefined;
}

function once(callback: () => unknown): () => void {
  let called = false;
  return () => void (called || callback(), (called = true));
}
