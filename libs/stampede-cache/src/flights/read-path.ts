import type { CacheKey } from '../core/cache-key';
import type { CacheResult, CacheStatus } from '../core/cache-result';
import { traceHit, tracedRead } from '../core/cache-tracing';
import { monotonic, type CacheClock } from '../core/clock';
import { CacheFactoryFailedError, CacheFactoryTimeoutError, StampedeCacheError } from '../core/errors';
import type { HotRead, PreparedCall } from '../core/prepared-call';
import type { CacheEntry } from '../stores/cache-store';
import type { TieredStore } from '../tiers/tiered-store';
import type { FlightOutcome, FlightRequest } from './compute-flight';
import type { EarlyRefresh } from './early-refresh';
import { isStale, newEnough } from './entries';
import type { InProcessFlights } from './in-process-flights';

/**
 * How a read works (README, "How a read works"): a current L1 entry is a HIT at once (an
 * XFetch draw may start a background refresh); else L2, then a fresh entry is a HIT, a stale
 * one is STALE while a refresh runs or fail-safe backs off, and otherwise the caller joins or
 * starts this process's flight for the key and waits for it within its bounds.
 */
export class ReadPath {
  constructor(
    private readonly store: TieredStore,
    private readonly flights: InProcessFlights,
    private readonly earlyRefresh: EarlyRefresh,
    private readonly clock: CacheClock,
  ) {}

  /**
   * The hot path: the value when it can be served from L1 as a HIT right now
   * (counted, an early refresh started when XFetch says so), synchronously and without
   * allocating; undefined otherwise (then {@link read}).
   */
  hitL1<T>(read: HotRead<T>): CacheEntry | undefined {
    const { call } = read;
    if (call.forceRefresh || call.minComputedAt !== undefined) return undefined;
    const now = this.clock.now();
    const entry = this.store.readL1(read.key.id, now);
    if (!entry || isStale(entry, now)) return undefined;
    this.fresh(read, entry, now);
    traceHit(call.label, read.key.id);
    return entry;
  }

  /** A read of a prepared call: an L1 HIT, else {@link readAfterMiss}. */
  async read<T>(read: HotRead<T>): Promise<CacheResult<T>> {
    const local = this.hitL1(read);
    if (local) return result(read.key, local, 'HIT');
    return this.readAfterMiss(read);
  }

  /** A read whose caller has just seen {@link hitL1} miss: {@link readShared} in a traced span, without looking at L1 again. */
  readAfterMiss<T>(read: HotRead<T>): Promise<CacheResult<T>> {
    return tracedRead(read.call.label, () => this.readShared(read));
  }

  /** A read L1 could not serve as a HIT: L2, the single flight, stale answers and timeouts. */
  private async readShared<T>(read: HotRead<T>): Promise<CacheResult<T>> {
    const { key, call } = read;
    const startedAt = this.clock.now();
    const began = monotonic(this.clock);
    const minComputedAt = call.forceRefresh ? startedAt : call.minComputedAt;
    const [current, minFence] = await Promise.all([
      this.store.read(key.id),
      minComputedAt === undefined ? undefined : this.store.locks.fenceSince(key.id, minComputedAt, startedAt),
    ]);
    const request = this.request(read, current, minComputedAt, minFence);
    const acceptable = !call.forceRefresh && current && newEnough(current, minComputedAt, minFence) ? current : undefined;
    const now = this.clock.now();
    const running = this.flights.joinable(request);

    if (acceptable && !isStale(acceptable, now)) {
      this.fresh(read, acceptable, now, request);
      return result(key, acceptable, 'HIT');
    }
    // Fail-safe backoff window, or a refresh already running here (joinable or not): serve stale without waiting.
    if (acceptable && ((acceptable.failSafe && now < acceptable.expiresAt) || this.flights.busy(key.id))) {
      call.counts.stale.inc();
      return result(key, acceptable, 'STALE');
    }
    return awaitFlight(this.clock, (running ?? this.flights.start(request)).promise, current, call, began, key);
  }

  /** Counts a fresh hit; starts an XFetch early refresh in the background when this read draws one. */
  private fresh<T>(read: HotRead<T>, entry: CacheEntry, now: number, request?: FlightRequest<T>): void {
    const early = now >= (entry.refreshAfter ?? 0) && this.earlyRefresh.due(entry, read.call.entry.beta, now);
    if (!early) return read.call.counts.hit.inc();
    read.call.counts.early_refresh.inc();
    if (this.flights.busy(read.key.id)) return;
    const flight = this.flights.start(request ?? this.request(read, entry, undefined, undefined));
    flight.promise.catch(() => undefined); // nobody waits for it
  }

  private request<T>(read: HotRead<T>, previous: CacheEntry | undefined, minComputedAt?: number, minFence?: number): FlightRequest<T> {
    const { key, call } = read;
    return {
      key,
      factory: read.factory(),
      options: call.entry,
      tags: read.tags,
      isNegative: call.isNegative,
      label: call.label,
      previous,
      minComputedAt,
      minFence,
    };
  }
}

/** What a caller gets back for an entry, and how it was served. */
function result<T>(key: CacheKey, entry: CacheEntry, status: CacheStatus): CacheResult<T> {
  return { value: entry.value as T, status, computedAt: entry.computedAt, expiresAt: entry.expiresAt, key: key.id };
}

/**
 * A caller's wait for a computation, bounded by `hardTimeout` (and by `softTimeout` when a
 * stale value can be served instead), both counted from `began` (monotonic): the computation's
 * value (MISS, or STALE when it settled on an old one), else the stale value, else the typed error.
 */
async function awaitFlight<T>(
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
