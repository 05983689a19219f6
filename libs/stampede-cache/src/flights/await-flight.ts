import type { CacheKey } from '../core/cache-key';
import { monotonic, type CacheClock } from '../core/clock';
import type { FlightOutcome } from './compute-flight';
import { CacheFactoryFailedError, CacheFactoryTimeoutError, StampedeCacheError } from '../core/errors';
import type { PreparedCall } from '../core/prepared-call';
import type { CacheResult, CacheStatus } from '../core/cache-result';
import type { CacheEntry } from '../stores/cache-store';

/** What a caller gets back for an entry, and how it was served. */
export function result<T>(key: CacheKey, entry: CacheEntry, status: CacheStatus): CacheResult<T> {
  return { value: entry.value as T, status, computedAt: entry.computedAt, expiresAt: entry.expiresAt, key: key.id };
}

/**
 * A caller's wait for a computation, bounded by `hardTimeout` (and by `softTimeout` when a
 * stale value can be served instead), both counted from `began` (monotonic): the computation's
 * value (MISS, or STALE when it settled on an old one), else the stale value, else the typed error.
 */
export async function awaitFlight<T>(
  clock: CacheClock,
  flight: Promise<FlightOutcome>,
  fallback: CacheEntry | undefined,
  call: PreparedCall<T>,
  began: number,
  key: CacheKey,
): Promise<CacheResult<T>> {
  const options = call.entry;
  type Settled = { kind: 'done'; outcome: FlightOutcome } | { kind: 'failed'; error: unknown } | { kind: 'soft' } | { kind: 'hard' };
  const timers: Array<{ cancel(): void }> = [];
  const after = (ms: number, settled: Settled) =>
    new Promise<Settled>((resolve) => timers.push(clock.setTimer(() => resolve(settled), ms - (monotonic(clock) - began))));
  const contenders: Array<Promise<Settled>> = [
    flight.then(
      (outcome): Settled => ({ kind: 'done', outcome }),
      (error: unknown): Settled => ({ kind: 'failed', error }),
    ),
    after(options.hardTimeout, { kind: 'hard' }),
  ];
  const usable = fallback && clock.now() < fallback.staleUntil ? fallback : undefined;
  if (usable && options.softTimeout !== undefined) contenders.push(after(options.softTimeout, { kind: 'soft' }));
  const settled = await Promise.race(contenders).finally(() => timers.forEach((timer) => timer.cancel()));

  if (settled.kind === 'done') {
    const { entry, fromStale } = settled.outcome;
    (fromStale ? call.counts.stale : call.counts.miss).inc();
    return result(key, entry, fromStale ? 'STALE' : 'MISS');
  }
  if (usable) {
    call.counts.stale.inc();
    return result(key, usable, 'STALE');
  }
  call.counts.miss.inc();
  if (settled.kind === 'failed')
    throw settled.error instanceof StampedeCacheError ? settled.error : new CacheFactoryFailedError(key.id, settled.error);
  throw new CacheFactoryTimeoutError(key.id, options.hardTimeout);
}
