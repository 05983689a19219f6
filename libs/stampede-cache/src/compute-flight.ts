import type { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { CacheKey } from './cache-key';
import { CacheFactoryFailedError, StampedeCacheError } from './errors';
import type { CacheMetrics } from './metrics';
import type { ResolvedEntryOptions } from './options';
import type { CacheEntry } from './stores/cache-store';
import type { TieredStore } from './tiered-store';
import { runBounded } from './timing';
import { recomputeDelta } from './xfetch';

/** What a factory receives. */
export interface ComputeContext<T = unknown> {
  /** The key being computed. */
  key: CacheKey;
  /** Aborted at `hardTimeout`: pass it to fetch/DB calls so abandoned work stops. */
  signal: AbortSignal;
  /** The value being replaced, if any (useful for incremental recomputation). */
  previous?: T;
}

/** Everything one recomputation needs. */
export interface FlightRequest<T> {
  key: CacheKey;
  factory: (context: ComputeContext<T>) => Promise<T>;
  options: ResolvedEntryOptions;
  tags?: string[] | ((value: T) => string[]);
  label: string;
  /** The entry the caller saw: the delta to smooth, and the fail-safe fallback while servable. */
  previous?: CacheEntry;
  /** From forceRefresh/minComputedAt: a lock loser may not settle for `previous`. */
  minComputedAt?: number;
}

/** The entry a flight settled on; `fromStale` when it is an expired or fail-safe value. */
export interface FlightOutcome {
  entry: CacheEntry;
  fromStale: boolean;
}

/** Extra wait after a foreign lock's expiry, so our retry does not race its PX by a millisecond. */
const LOCK_EXPIRY_MARGIN_MS = 10;

/**
 * One recomputation of one key across instances: take the Redis lock, re-check, run the
 * factory under the hard timeout, write, release the lock (on every path). Lock losers
 * serve the stale value when allowed, else wait for the winner's `written` event (or the
 * lock's expiry) without polling, re-check, and compute themselves as a last resort.
 * Factory failures fall back to the stale value, written back for `failSafeBackoff`.
 */
export class ComputeFlight {
  constructor(
    private readonly store: TieredStore,
    private readonly metrics: CacheMetrics,
    private readonly random: () => number,
    private readonly logger: Logger,
  ) {}

  async run<T>(request: FlightRequest<T>): Promise<FlightOutcome> {
    const { key, options } = request;
    const token = randomUUID();
    const deadline = Date.now() + options.hardTimeout;
    let attempt = await this.store.tryLock(key.id, token, options.lockTtl);
    try {
      if (!attempt.acquired) {
        const fallback = this.servable(request.previous);
        if (fallback && request.minComputedAt === undefined) return { entry: fallback, fromStale: isStale(fallback) };
        this.metrics.lockWaits.inc({ cache: request.label });
        while (!attempt.acquired && Date.now() < deadline) {
          const found = await this.waitForWinner(request, Math.min(attempt.remainingMs + LOCK_EXPIRY_MARGIN_MS, deadline - Date.now()));
          if (found) return found;
          attempt = await this.store.tryLock(key.id, token, options.lockTtl);
        }
      }
      // Re-check after the lock: another instance may have written while we were getting it.
      const found = await this.recheck(request);
      return found ?? (await this.compute(request));
    } finally {
      if (attempt.acquired) await this.store.unlock(key.id, token);
    }
  }

  /** Registers for the `written` event before re-checking so a write in between is not missed. */
  private async waitForWinner<T>(request: FlightRequest<T>, timeoutMs: number): Promise<FlightOutcome | undefined> {
    const waiter = this.store.waitForWrite(request.key.id, Math.max(0, timeoutMs));
    try {
      const early = await this.recheck(request);
      if (early) return early;
      await waiter.promise;
      return await this.recheck(request);
    } finally {
      waiter.cancel();
    }
  }

  /** An L2 entry newer than what the caller saw (and new enough for minComputedAt), if any. */
  private async recheck<T>(request: FlightRequest<T>): Promise<FlightOutcome | undefined> {
    const found = await this.store.readL2(request.key.id);
    if (!found || Date.now() >= found.expiresAt) return undefined;
    if (request.minComputedAt !== undefined && found.computedAt < request.minComputedAt) return undefined;
    const previous = request.previous;
    const newer = !previous || found.computedAt > previous.computedAt || found.expiresAt > previous.expiresAt;
    return newer ? { entry: found, fromStale: isStale(found) } : undefined;
  }

  private async compute<T>(request: FlightRequest<T>): Promise<FlightOutcome> {
    const { key, options, label } = request;
    // Static tags are stamped before computing, so an invalidation during the compute wins.
    const stampedBefore = Array.isArray(request.tags) ? await this.store.stampTags(request.tags) : undefined;
    this.metrics.factoryRuns.inc({ cache: label });
    const startedAt = Date.now();
    const observe = once(this.metrics.factoryDuration.startTimer({ cache: label }));
    try {
      const previous = request.previous?.value as T | undefined;
      const value = await runBounded(key.id, options.hardTimeout, (signal) => request.factory({ key, signal, previous }));
      const finishedAt = Date.now();
      observe();
      const dynamicTags = typeof request.tags === 'function' ? request.tags(value) : undefined;
      const tags = stampedBefore ?? (dynamicTags ? await this.store.stampTags(dynamicTags) : undefined);
      const ttl = options.ttl * (1 - options.jitter * this.random());
      const entry: CacheEntry = {
        value,
        computedAt: startedAt,
        expiresAt: finishedAt + ttl,
        staleUntil: finishedAt + ttl + options.staleTtl,
        delta: recomputeDelta(request.previous?.delta, finishedAt - startedAt),
        ...(tags && { tags }),
      };
      await this.store.write(key.id, entry);
      return { entry, fromStale: false };
    } catch (error) {
      observe();
      this.metrics.factoryErrors.inc({ cache: label });
      return this.failSafe(request, error);
    }
  }

  /** Serves the stale value and writes it back for `failSafeBackoff`, so no instance hammers a failing origin. */
  private async failSafe<T>(request: FlightRequest<T>, error: unknown): Promise<FlightOutcome> {
    const typed = error instanceof StampedeCacheError ? error : new CacheFactoryFailedError(request.key.id, error);
    const fallback = this.servable(request.previous);
    if (!fallback) throw typed;
    const reason = error instanceof Error ? error.message : String(error);
    this.logger.warn(`Serving stale value for "${request.key.id}" after a failed refresh: ${reason}`);
    const backoffUntil = Date.now() + request.options.failSafeBackoff;
    const extended: CacheEntry = { ...fallback, failSafe: true, expiresAt: backoffUntil, staleUntil: Math.max(fallback.staleUntil, backoffUntil) };
    await this.store.write(request.key.id, extended);
    return { entry: extended, fromStale: true };
  }

  private servable(entry: CacheEntry | undefined): CacheEntry | undefined {
    return entry && Date.now() < entry.staleUntil ? entry : undefined;
  }
}

/** Expired, or a fail-safe write-back: either way not a fresh value. */
export function isStale(entry: CacheEntry, now = Date.now()): boolean {
  return entry.failSafe === true || now >= entry.expiresAt;
}

function once(callback: () => unknown): () => void {
  let called = false;
  return () => {
    if (!called) callback();
    called = true;
  };
}
