import type { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { CircuitBreaker } from '../redis/circuit-breaker';
import type { CacheClock } from '../core/clock';
import { L1Cache } from './l1/l1-cache';
import { resolveL1Options, type ResolvedEntryOptions, type StampedeCacheModuleOptions } from '../core/options';
import type { CacheMetrics } from '../core/metrics';
import { CacheFeed } from '../redis/cache-feed';
import { RedisGuard } from '../redis/redis-guard';
import { closeConnections, openRedisConnections, waitUntilReady, type RedisConnections } from '../redis/redis-connections';
import { MemoryStore } from '../stores/memory.store';
import { RedisStore } from '../redis/redis.store';
import { TieredStore } from './tiered-store';

/** Longest start-up wait for Redis; beyond it the cache starts degraded and recovers in the background. */
const STARTUP_WAIT_MS = 2_000;

/** The store levels of one cache and their lifecycle. */
export interface TieredStoreWiring {
  store: TieredStore;
  /** True when backed by Redis (else L1-only mode). */
  redis: boolean;
  start(): Promise<void>;
  stop(): Promise<void>;
  usage(): { entries: number; negativeEntries: number; bytes: number };
  /** Whether this instance hears invalidations now (always, in L1-only mode). */
  trusted(): boolean;
  /** Instances sharing the keys, this one included (heard on the feed within the trust window; 1 in L1-only mode). */
  instances(): number;
}

/**
 * Wires the levels: with Redis, an L1 in front of a Redis L2 with a circuit breaker and the
 * invalidation feed; without, one bounded in-process store. Fence records outlive the
 * longest computation (lock lease or hard timeout, whichever is longer) with a margin.
 */
export function buildTieredStore(
  options: StampedeCacheModuleOptions,
  namespace: string,
  defaults: ResolvedEntryOptions,
  clock: CacheClock,
  logger: Logger,
  metrics: CacheMetrics,
): TieredStoreWiring {
  const l1Options = resolveL1Options(options.l1);
  const timeoutMs = options.redisTimeoutMs ?? 500;
  // A stall of this process is not Redis's silence: the guard extends its wait by up to this much (see RedisGuard).
  const maxStallMs = Math.max(5_000, 10 * timeoutMs);
  const longest = Math.max(defaults.lockTtl, defaults.hardTimeout);
  // Fences must outlive any computation that may still write; bumped tag versions must outlive an
  // in-flight stamp after the computation (dynamic tags, see ComputeFlight.stampAfter).
  const lifetimes = { fenceTtlMs: longest + 5_000, tagTtlMs: 2 * longest + 5_000 };
  const maxPending = options.maxPendingInvalidations ?? 1_000;
  let store: TieredStore | undefined;
  const breaker = new CircuitBreaker(
    options.circuitBreaker?.failureThreshold,
    options.circuitBreaker?.resetTimeoutMs,
    () => {
      logger.log('Redis answers again: circuit closed, L1 cleared (invalidations may have been missed)');
      void store?.recover();
    },
    clock,
  );
  const guard = new RedisGuard(breaker, timeoutMs, maxStallMs, clock, {
    onSuccess: () => store?.replaySoon(),
    onLag: (lagMs) => metrics.eventLoopLag.observe(lagMs / 1_000),
    onTimeout: (stalled) => metrics.redisTimeouts.inc({ stalled: String(stalled) }),
  });

  if (!options.redis) {
    const memory = new MemoryStore(l1Options, clock);
    store = new TieredStore(memory, undefined, guard, clock, lifetimes, maxPending, logger);
    return {
      store,
      redis: false,
      start: () => {
        logger.warn('No Redis configured: the cache runs in-process only (no cross-instance single flight or invalidation)');
        return Promise.resolve();
      },
      stop: () => {
        store?.stop();
        return Promise.resolve();
      },
      usage: () => memory.usage,
      trusted: () => true,
      instances: () => 1,
    };
  }

  // ioredis's own commandTimeout must never decide before the guard (it cannot tell a stall from silence).
  const connections: RedisConnections = openRedisConnections(
    options.redis,
    timeoutMs + maxStallMs + 1_000,
    logger,
    options.redisSubscriber,
  );
  let feed: CacheFeed | undefined;
  const l1 = new L1Cache(l1Options, () => feed?.trusted() ?? false);
  const tiered = new TieredStore(new RedisStore(connections.client, namespace, clock), l1, guard, clock, lifetimes, maxPending, logger);
  store = tiered;
  return {
    store: tiered,
    redis: true,
    async start() {
      const handlers = {
        onMessage: (message: Parameters<TieredStore['applyRemote']>[0]) => tiered.applyRemote(message),
        onGap: () => tiered.forgetLocal(),
      };
      feed = new CacheFeed(
        connections.client,
        connections.subscriber,
        `{${namespace}}:events`,
        randomUUID(),
        clock,
        l1Options.trustWindowMs,
        handlers,
        logger,
        (lagMs) => metrics.eventLoopLag.observe(lagMs / 1_000),
        () => guard.answered(),
      );
      tiered.attachFeed(feed);
      await Promise.all([waitUntilReady(connections.client, STARTUP_WAIT_MS), feed.start(STARTUP_WAIT_MS)]);
    },
    async stop() {
      feed?.stop();
      tiered.stop();
      await closeConnections(connections.owned);
    },
    usage: () => l1.usage,
    trusted: () => feed?.trusted() ?? false,
    instances: () => 1 + (feed?.peerCount ?? 0),
  };
}
