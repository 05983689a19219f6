import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { Registry } from 'prom-client';
import { CacheKey, type CacheKeyInput } from './cache-key';
import type { CircuitState } from './circuit-breaker';
import { monotonic, systemClock, type CacheClock } from './clock';
import { ComputeFlight, type FlightOutcome, type FlightRequest } from './compute-flight';
import { isStale, newEnough } from './entry-state';
import { InProcessFlights } from './in-process-flights';
import { CacheFactoryFailedError, CacheFactoryTimeoutError, StampedeCacheError } from './errors';
import { CacheMetrics, type RequestResult } from './metrics';
import {
  resolveEntryOptions,
  resolveNamespace,
  type GetOrComputeOptions,
  type ResolvedEntryOptions,
  type StampedeCacheModuleOptions,
} from './options';
import { buildLevels, type CacheLevels } from './cache-levels';
import { STAMPEDE_CACHE_OPTIONS } from './stampede-cache.module-definition';
import type { CacheEntry } from './stores/cache-store';
import { xfetchShouldRefresh } from './xfetch';
import { tracedRead } from './cache-tracing';

/** How a value was served: fresh from cache, stale (expired or fail-safe), or after waiting for a computation. */
export type CacheStatus = 'HIT' | 'STALE' | 'MISS';

/** A value plus how it was obtained; `status` is what the interceptor puts in `X-Cache`. */
export interface CacheResult<T> {
  value: T;
  status: CacheStatus;
  /** When the factory that produced the value started (epoch ms). */
  computedAt: number;
  /** Logical expiry of the served entry (epoch ms). */
  expiresAt: number;
  /** The encoded key id. */
  key: string;
}

/** A factory computing the value for a key; see {@link ComputeContext}. */
export type CacheFactory<T> = (context: import('./compute-flight').ComputeContext<T>) => Promise<T>;

/**
 * Stampede-proof get-or-compute over an in-process L1 and a Redis L2: XFetch early
 * refresh, single flight in-process and across instances (Redis lock with a renewed
 * lease), fenced writes, acknowledged invalidation, fail-safe stale values, soft/hard
 * timeouts and Prometheus metrics. The consistency promise is in the README.
 * Inject it (after `StampedeCacheModule.forRoot`) or use {@link StampedeCache.create}.
 */
@Injectable()
export class StampedeCache implements OnModuleInit, OnApplicationShutdown {
  /** The prom-client registry holding this cache's metrics (the one passed in options, or a new one). */
  readonly registry: Registry;
  /** Prefix of every Redis key and channel. */
  readonly namespace: string;
  private readonly logger = new Logger(StampedeCache.name);
  private readonly defaults: ResolvedEntryOptions;
  private readonly random: () => number;
  private readonly clock: CacheClock;
  private readonly metrics: CacheMetrics;
  private readonly levels: CacheLevels;
  private readonly flights: InProcessFlights;

  constructor(@Inject(STAMPEDE_CACHE_OPTIONS) options: StampedeCacheModuleOptions) {
    this.namespace = resolveNamespace(options.namespace);
    this.defaults = resolveEntryOptions(options.defaults);
    this.random = options.random ?? Math.random;
    this.clock = options.clock ?? systemClock;
    this.registry = options.registry ?? new Registry();
    this.metrics = new CacheMetrics(this.registry);
    this.levels = buildLevels(options, this.namespace, this.defaults, this.clock, this.logger, this.metrics);
    const compute = new ComputeFlight(this.levels.store, this.metrics, this.random, this.clock, this.logger);
    this.flights = new InProcessFlights(compute, this.levels.store.local, this.clock, () => this.levels.trusted());
  }

  /** Creates and starts a cache outside Nest DI (scripts, benchmarks, tests); call {@link close} when done. */
  static async create(options: StampedeCacheModuleOptions): Promise<StampedeCache> {
    const cache = new StampedeCache(options);
    await cache.onModuleInit();
    return cache;
  }

  async onModuleInit(): Promise<void> {
    await this.levels.start();
  }

  /** Closes the connections this cache created; clients passed in by the user stay open. */
  async onApplicationShutdown(): Promise<void> {
    await this.levels.stop();
  }

  /** Same as {@link onApplicationShutdown}, for caches made with {@link create}. */
  close(): Promise<void> {
    return this.onApplicationShutdown();
  }

  /** The module's default `hardTimeout` (ms): the bound of a call that sets none. */
  get defaultHardTimeout(): number {
    return this.defaults.hardTimeout;
  }

  /**
   * Whether this instance hears invalidations now (it heard its own heartbeat within the trust
   * window): only then does it serve from L1 or let a reader join a computation that started
   * earlier. False for a moment after start and after every gap; always true in L1-only mode.
   */
  get listening(): boolean {
    return this.levels.trusted();
  }

  /** Redis circuit breaker state; `disabled` in L1-only mode. */
  get circuitState(): CircuitState {
    return this.levels.redis ? this.levels.store.breaker.state : 'disabled';
  }

  /** Memory held in process: L1 (or the memory store), and invalidations waiting for Redis. */
  get usage(): { entries: number; negativeEntries: number; bytes: number; pendingInvalidations: number } {
    return { ...this.levels.usage(), pendingInvalidations: this.levels.store.pendingInvalidations };
  }

  /** Builds a normalised key from a namespace part and inputs (see {@link CacheKey.of}). */
  buildKey(namespacePart: string, inputs: Record<string, CacheKeyInput> = {}): CacheKey {
    return CacheKey.of(namespacePart, inputs);
  }

  /** The cached value for `key`, computing it with `factory` when needed. See {@link getOrComputeWithStatus}. */
  async getOrCompute<T>(key: CacheKey | string, factory: CacheFactory<T>, options: GetOrComputeOptions<T> = {}): Promise<T> {
    return (await this.getOrComputeWithStatus(key, factory, options)).value;
  }

  /**
   * Fresh value: returned at once (HIT), possibly starting an XFetch early refresh in the
   * background. Expired value within `staleTtl`: refreshed by one caller per key (others
   * get STALE at once); that caller waits up to `softTimeout`, then gets STALE. No value:
   * single-flight computation (MISS). Never waits longer than `hardTimeout`.
   * Traced as a `cache.get` span (`cache.result` hit/stale/miss; see cache-tracing.ts).
   * @throws CacheFactoryFailedError / CacheFactoryTimeoutError only when no stale value exists.
   */
  getOrComputeWithStatus<T>(
    key: CacheKey | string,
    factory: CacheFactory<T>,
    options: GetOrComputeOptions<T> = {},
  ): Promise<CacheResult<T>> {
    return tracedRead(options.cache ?? 'default', () => this.lookup(CacheKey.from(key), factory, options));
  }

  private async lookup<T>(cacheKey: CacheKey, factory: CacheFactory<T>, options: GetOrComputeOptions<T>): Promise<CacheResult<T>> {
    const label = options.cache ?? 'default';
    const entryOptions = resolveEntryOptions(this.defaults, options);
    const startedAt = this.clock.now();
    const began = monotonic(this.clock);
    const minComputedAt = options.forceRefresh ? startedAt : options.minComputedAt;
    const [current, minFence] = await Promise.all([
      this.levels.store.read(cacheKey.id),
      minComputedAt === undefined ? undefined : this.levels.store.locks.fenceSince(cacheKey.id, minComputedAt, startedAt),
    ]);
    const request: FlightRequest<T> = {
      key: cacheKey,
      factory,
      options: entryOptions,
      tags: options.tags,
      isNegative: options.isNegative,
      label,
      previous: current,
      minComputedAt,
      minFence,
    };
    const acceptable = !options.forceRefresh && current && newEnough(current, minComputedAt, minFence) ? current : undefined;
    const now = this.clock.now();
    const running = this.flights.joinable(request);

    if (acceptable && !isStale(acceptable, now)) {
      const due = now >= (acceptable.refreshAfter ?? 0);
      const early =
        due &&
        xfetchShouldRefresh({
          nowMs: now,
          expiresAtMs: acceptable.expiresAt,
          deltaMs: acceptable.delta,
          beta: entryOptions.beta,
          random: this.random(),
        });
      if (early && !this.flights.busy(cacheKey.id)) this.flights.start(request).promise.catch(() => undefined); // nobody waits for it
      return this.served(cacheKey, acceptable, 'HIT', label, early ? 'early_refresh' : 'hit');
    }
    // Fail-safe backoff window, or a refresh already running here (joinable or not): serve stale without waiting.
    if (acceptable && ((acceptable.failSafe && now < acceptable.expiresAt) || this.flights.busy(cacheKey.id))) {
      return this.served(cacheKey, acceptable, 'STALE', label, 'stale');
    }
    return this.awaitFlight((running ?? this.flights.start(request)).promise, current, entryOptions, began, cacheKey, label);
  }

  /**
   * Deletes the key everywhere. Once this returns, no instance serves a value computed
   * before it from L1 or L2, and no computation that started before it can write.
   * @throws CacheInvalidationPendingError when Redis is unreachable (replayed once it answers)
   */
  async invalidate(key: CacheKey | string): Promise<void> {
    await this.levels.store.invalidate(CacheKey.from(key).id);
  }

  /**
   * Invalidates every entry stamped with one of the tags, on every instance; same promise
   * as {@link invalidate}.
   * @throws CacheInvalidationPendingError when Redis is unreachable (replayed once it answers)
   */
  async invalidateTags(tags: string[]): Promise<void> {
    if (tags.length > 0) await this.levels.store.invalidateTags(tags);
  }

  private async awaitFlight<T>(
    flight: Promise<FlightOutcome>,
    fallback: CacheEntry | undefined,
    options: ResolvedEntryOptions,
    began: number,
    key: CacheKey,
    label: string,
  ): Promise<CacheResult<T>> {
    type Settled = { kind: 'done'; outcome: FlightOutcome } | { kind: 'failed'; error: unknown } | { kind: 'soft' } | { kind: 'hard' };
    const timers: Array<{ cancel(): void }> = [];
    const after = (ms: number, settled: Settled) =>
      new Promise<Settled>((resolve) => timers.push(this.clock.setTimer(() => resolve(settled), ms - (monotonic(this.clock) - began))));
    const contenders: Array<Promise<Settled>> = [
      flight.then(
        (outcome): Settled => ({ kind: 'done', outcome }),
        (error: unknown): Settled => ({ kind: 'failed', error }),
      ),
      after(options.hardTimeout, { kind: 'hard' }),
    ];
    const usable = fallback && this.clock.now() < fallback.staleUntil ? fallback : undefined;
    if (usable && options.softTimeout !== undefined) contenders.push(after(options.softTimeout, { kind: 'soft' }));
    const settled = await Promise.race(contenders).finally(() => timers.forEach((timer) => timer.cancel()));

    if (settled.kind === 'done') {
      const { entry, fromStale } = settled.outcome;
      return this.served(key, entry, fromStale ? 'STALE' : 'MISS', label, fromStale ? 'stale' : 'miss');
    }
    if (usable) return this.served(key, usable, 'STALE', label, 'stale');
    this.metrics.requests.inc({ cache: label, result: 'miss' });
    if (settled.kind === 'failed')
      throw settled.error instanceof StampedeCacheError ? settled.error : new CacheFactoryFailedError(key.id, settled.error);
    throw new CacheFactoryTimeoutError(key.id, options.hardTimeout);
  }

  private served<T>(key: CacheKey, entry: CacheEntry, status: CacheStatus, label: string, result: RequestResult): CacheResult<T> {
    this.metrics.requests.inc({ cache: label, result });
    return { value: entry.value as T, status, computedAt: entry.computedAt, expiresAt: entry.expiresAt, key: key.id };
  }
}
