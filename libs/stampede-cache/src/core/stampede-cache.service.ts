import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { Registry } from 'prom-client';
import { CacheKey, type CacheKeyInput } from './cache-key';
import type { CircuitState } from '../redis/circuit-breaker';
import { systemClock, type CacheClock } from './clock';
import { ComputeFlight } from '../flights/compute-flight';
import { InProcessFlights } from '../flights/in-process-flights';
import { CacheMetrics } from './metrics';
import {
  resolveEntryOptions,
  resolveNamespace,
  type GetOrComputeOptions,
  type ResolvedEntryOptions,
  type StampedeCacheModuleOptions,
} from './options';
import { prepareCall, type HotRead, type PreparedCall } from './prepared-call';
import { EarlyRefresh } from '../flights/early-refresh';
import { ReadPath } from '../flights/read-path';
import { buildTieredStore, type TieredStoreWiring } from '../tiers/build-tiered-store';
import { STAMPEDE_CACHE_OPTIONS } from '../nest/stampede-cache.module-definition';
import type { CacheEntry } from '../stores/cache-store';
import type { CacheFactory, CacheResult } from './cache-result';

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
  private readonly levels: TieredStoreWiring;
  private readonly reads: ReadPath;

  constructor(@Inject(STAMPEDE_CACHE_OPTIONS) options: StampedeCacheModuleOptions) {
    this.namespace = resolveNamespace(options.namespace);
    this.defaults = resolveEntryOptions(options.defaults);
    this.random = options.random ?? Math.random;
    this.clock = options.clock ?? systemClock;
    this.registry = options.registry ?? new Registry();
    this.metrics = new CacheMetrics(this.registry);
    this.levels = buildTieredStore(options, this.namespace, this.defaults, this.clock, this.logger, this.metrics);
    const compute = new ComputeFlight(this.levels.store, this.metrics, this.random, this.clock, this.logger);
    const flights = new InProcessFlights(compute, this.levels.store.local, this.clock, () => this.levels.trusted());
    const earlyRefresh = new EarlyRefresh(this.random, () => this.levels.instances());
    this.reads = new ReadPath(this.levels.store, flights, earlyRefresh, this.clock);
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
    this.metrics.detach();
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
   * @throws CacheFactoryFailedError / CacheFactoryTimeoutError only when no stale value exists.
   */
  async getOrComputeWithStatus<T>(
    key: CacheKey | string,
    factory: CacheFactory<T>,
    options: GetOrComputeOptions<T> = {},
  ): Promise<CacheResult<T>> {
    return this.reads.read({ key: CacheKey.from(key), call: this.prepare(options), factory: () => factory, tags: options.tags });
  }

  /** @internal Resolves call options once, for callers that repeat them (the interceptor, `@CachedQuery`). */
  prepare<T>(options: GetOrComputeOptions<T>): PreparedCall<T> {
    return prepareCall(this.defaults, this.metrics, options);
  }

  /**
   * @internal The hot path: the value when it can be served from L1 as a HIT right now
   * (counted, an early refresh started when XFetch says so), synchronously and without
   * allocating; undefined otherwise (then {@link readAfterMiss}).
   */
  hitL1<T>(read: HotRead<T>): CacheEntry | undefined {
    return this.reads.hitL1(read);
  }

  /** @internal The rest of a read after {@link hitL1} answered undefined (the hot path's callers): L1 is not asked twice. */
  readAfterMiss<T>(read: HotRead<T>): Promise<CacheResult<T>> {
    return this.reads.readAfterMiss(read);
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
}
