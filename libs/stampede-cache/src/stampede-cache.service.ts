import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { randomUUID } from 'node:crypto';
import { Registry } from 'prom-client';
import { CacheKey, type CacheKeyInput } from './cache-key';
import { CircuitBreaker, type CircuitState } from './circuit-breaker';
import { ComputeFlight, isStale, type ComputeContext, type FlightOutcome, type FlightRequest } from './compute-flight';
import { CacheFactoryFailedError, CacheFactoryTimeoutError, StampedeCacheError } from './errors';
import { CacheMetrics, type RequestResult } from './metrics';
import { defaultCache } from './nest/default-cache';
import { resolveEntryOptions, resolveNamespace, type GetOrComputeOptions, type ResolvedEntryOptions, type StampedeCacheModuleOptions } from './options';
import { CacheEvents } from './redis/cache-events';
import { closeConnections, openRedisConnections, waitUntilReady, type RedisConnections } from './redis/redis-connections';
import { STAMPEDE_CACHE_OPTIONS } from './stampede-cache.module-definition';
import type { CacheEntry } from './stores/cache-store';
import { MemoryStore } from './stores/memory.store';
import { RedisStore } from './stores/redis.store';
import { TieredStore } from './tiered-store';
import { xfetchShouldRefresh } from './xfetch';

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
export type CacheFactory<T> = (context: ComputeContext<T>) => Promise<T>;

/** Longest start-up wait for Redis; beyond it the cache starts degraded and recovers in the background. */
const STARTUP_WAIT_MS = 2_000;

/**
 * Stampede-proof get-or-compute over an in-process L1 and a Redis L2: XFetch early
 * refresh, single flight in-process and across instances (Redis lock), fail-safe stale
 * values, soft/hard timeouts, tag invalidation and Prometheus metrics.
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
  private readonly metrics: CacheMetrics;
  private readonly connections?: RedisConnections;
  private readonly store: TieredStore;
  private readonly flight: ComputeFlight;
  private readonly flights = new Map<string, Promise<FlightOutcome>>();
  private events?: CacheEvents;

  constructor(@Inject(STAMPEDE_CACHE_OPTIONS) options: StampedeCacheModuleOptions) {
    this.namespace = resolveNamespace(options.namespace);
    this.defaults = resolveEntryOptions(options.defaults);
    this.random = options.random ?? Math.random;
    this.registry = options.registry ?? new Registry();
    this.metrics = new CacheMetrics(this.registry);
    const maxEntries = options.l1?.maxEntries ?? 10_000;
    const timeoutMs = options.redisTimeoutMs ?? 500;
    const breaker = new CircuitBreaker(options.circuitBreaker?.failureThreshold, options.circuitBreaker?.resetTimeoutMs, () => {
      this.logger.log('Redis answers again: circuit closed, L1 cleared (invalidations may have been missed)');
      this.store.clearLocal();
    });
    if (options.redis) {
      this.connections = openRedisConnections(options.redis, timeoutMs, this.logger);
      const l1 = new LRUCache<string, CacheEntry>({ max: maxEntries });
      this.store = new TieredStore(new RedisStore(this.connections.client, this.namespace), l1, breaker, timeoutMs);
    } else {
      this.store = new TieredStore(new MemoryStore({ maxEntries }), undefined, breaker, timeoutMs);
    }
    this.flight = new ComputeFlight(this.store, this.metrics, this.random, this.logger);
  }

  /** Creates and starts a cache outside Nest DI (scripts, benchmarks, tests); call {@link close} when done. */
  static async create(options: StampedeCacheModuleOptions): Promise<StampedeCache> {
    const cache = new StampedeCache(options);
    await cache.onModuleInit();
    return cache;
  }

  async onModuleInit(): Promise<void> {
    if (!this.connections) {
      this.logger.warn('No Redis configured: the cache runs in-process only (no cross-instance single flight or invalidation)');
    } else {
      const channel = `${this.namespace}:events`;
      this.events = new CacheEvents(this.connections.client, this.connections.subscriber, channel, randomUUID(), (event) => this.store.applyRemoteEvent(event), this.logger);
      this.store.attachEvents(this.events);
      await Promise.all([waitUntilReady(this.connections.client, STARTUP_WAIT_MS), this.events.start(STARTUP_WAIT_MS)]);
    }
    defaultCache.set(this);
  }

  /** Closes the connections this cache created; clients passed in by the user stay open. */
  async onApplicationShutdown(): Promise<void> {
    defaultCache.release(this);
    this.events?.stop();
    if (this.connections) await closeConnections(this.connections.owned);
  }

  /** Same as {@link onApplicationShutdown}, for caches made with {@link create}. */
  close(): Promise<void> {
    return this.onApplicationShutdown();
  }

  /** Redis circuit breaker state; `disabled` in L1-only mode. */
  get circuitState(): CircuitState {
    return this.connections ? this.store.breaker.state : 'disabled';
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
  async getOrComputeWithStatus<T>(key: CacheKey | string, factory: CacheFactory<T>, options: GetOrComputeOptions<T> = {}): Promise<CacheResult<T>> {
    const cacheKey = CacheKey.from(key);
    const entryOptions = resolveEntryOptions(this.defaults, options);
    const label = options.cache ?? 'default';
    const startedAt = Date.now();
    const minComputedAt = options.forceRefresh ? startedAt : options.minComputedAt;
    const current = await this.store.read(cacheKey.id);
    const request: FlightRequest<T> = { key: cacheKey, factory, options: entryOptions, tags: options.tags, label, previous: current, minComputedAt };
    const acceptable = current && (minComputedAt === undefined || current.computedAt >= minComputedAt) ? current : undefined;
    const now = Date.now();

    if (acceptable && !isStale(acceptable, now)) {
      const early = xfetchShouldRefresh({ nowMs: now, expiresAtMs: acceptable.expiresAt, deltaMs: acceptable.delta, beta: entryOptions.beta, random: this.random() });
      if (early && !this.flights.has(cacheKey.id)) this.start(request).catch(() => undefined); // nobody waits for an early refresh
      return this.served(cacheKey, acceptable, 'HIT', label, early ? 'early_refresh' : 'hit');
    }
    // Fail-safe backoff window, or a refresh already running here: serve stale without waiting.
    if (acceptable && ((acceptable.failSafe && now < acceptable.expiresAt) || this.flights.has(cacheKey.id))) {
      return this.served(cacheKey, acceptable, 'STALE', label, 'stale');
    }
    return this.awaitFlight(this.flights.get(cacheKey.id) ?? this.start(request), current, entryOptions, startedAt, cacheKey, label);
  }

  /** Deletes the key in Redis and drops every instance's L1 copy. */
  async invalidate(key: CacheKey | string): Promise<void> {
    await this.store.remove(CacheKey.from(key).id);
  }

  /** Bumps the tags' versions in Redis (invalidating tagged L2 entries) and drops tagged L1 copies everywhere. */
  async invalidateTags(tags: string[]): Promise<void> {
    if (tags.length > 0) await this.store.invalidateTags(tags);
  }

  private start<T>(request: FlightRequest<T>): Promise<FlightOutcome> {
    const id = request.key.id;
    const running = this.flight.run(request).finally(() => {
      if (this.flights.get(id) === running) this.flights.delete(id);
    });
    this.flights.set(id, running);
    running.catch(() => undefined); // callers may have timed out; the rejection is theirs to see, not the process's
    return running;
  }

  private async awaitFlight<T>(flight: Promise<FlightOutcome>, fallback: CacheEntry | undefined, options: ResolvedEntryOptions, startedAt: number, key: CacheKey, label: string): Promise<CacheResult<T>> {
    type Settled = { kind: 'done'; outcome: FlightOutcome } | { kind: 'failed'; error: unknown } | { kind: 'soft' } | { kind: 'hard' };
    const timers: NodeJS.Timeout[] = [];
    const after = (ms: number, settled: Settled) => new Promise<Settled>((resolve) => timers.push(setTimeout(() => resolve(settled), Math.max(0, ms - (Date.now() - startedAt)))));
    const contenders: Array<Promise<Settled>> = [
      flight.then((outcome): Settled => ({ kind: 'done', outcome }), (error: unknown): Settled => ({ kind: 'failed', error })),
      after(options.hardTimeout, { kind: 'hard' }),
    ];
    if (fallback && options.softTimeout !== undefined) contenders.push(after(options.softTimeout, { kind: 'soft' }));
    const settled = await Promise.race(contenders).finally(() => timers.forEach(clearTimeout));

    if (settled.kind === 'done') return this.served(key, settled.outcome.entry, settled.outcome.fromStale ? 'STALE' : 'MISS', label, settled.outcome.fromStale ? 'stale' : 'miss');
    if (fallback) return this.served(key, fallback, 'STALE', label, 'stale');
    this.metrics.requests.inc({ cache: label, result: 'miss' });
    if (settled.kind === 'failed') throw settled.error instanceof StampedeCacheError ? settled.error : new CacheFactoryFailedError(key.id, settled.error);
    throw new CacheFactoryTimeoutError(key.id, options.hardTimeout);
  }

  private served<T>(key: CacheKey, entry: CacheEntry, status: CacheStatus, label: string, result: RequestResult): CacheResult<T> {
    this.metrics.requests.inc({ cache: label, result });
    return { value: entry.value as T, status, computedAt: entry.computedAt, expiresAt: entry.expiresAt, key: key.id };
  }
}
