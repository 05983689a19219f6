/**
 * The caching strategies compared by the peer benchmarks, each configured the way its docs
 * recommend, behind one tiny interface: get-or-compute one key with a factory.
 * Loaded in worker processes only (BentoCache and cache-manager are ESM packages; Node 20.19+
 * loads them with require(), Jest's CommonJS runtime does not).
 */
import Redis from 'ioredis';
import { StampedeCache } from '@app/stampede-cache';

export type Factory = () => Promise<CachedValue>;

/** What every factory returns: who computed it and when it was ready. */
export interface CachedValue {
  worker: number;
  finishedAt: number;
}

export interface Strategy {
  getOrCompute(key: string, factory: Factory): Promise<CachedValue>;
  close(): Promise<void>;
}

export interface StrategyOptions {
  redisUrl: string;
  /** Key prefix of this run, so runs and strategies never share keys. */
  namespace: string;
  ttlMs: number;
  /** XFetch beta for this library (ignored by the others). */
  beta?: number;
}

export const STRATEGIES = ['plain', 'cache-manager-wrap', 'bentocache-l2-grace', 'bentocache-l1-l2-bus-grace', 'stampede-cache'] as const;
export type StrategyName = (typeof STRATEGIES)[number];

/** Grace (BentoCache) and stale window (this library): long enough to cover a whole benchmark. */
const GRACE_MS = 6 * 60 * 60 * 1000;

export async function createStrategy(name: StrategyName, o: StrategyOptions): Promise<Strategy> {
  switch (name) {
    case 'plain':
      return plainCacheAside(o);
    case 'cache-manager-wrap':
      return cacheManagerWrap(o);
    case 'bentocache-l2-grace':
      return bentoCache(o, false);
    case 'bentocache-l1-l2-bus-grace':
      return bentoCache(o, true);
    case 'stampede-cache':
      return stampedeCache(o);
  }
}

/** GET; on a miss compute and SET PX ttl. What most hand-written caches (and CacheInterceptor) do. */
function plainCacheAside(o: StrategyOptions): Strategy {
  const redis = new Redis(o.redisUrl);
  return {
    async getOrCompute(key, factory) {
      const hit = await redis.get(`${o.namespace}:${key}`);
      if (hit) return JSON.parse(hit) as CachedValue;
      const value = await factory();
      await redis.set(`${o.namespace}:${key}`, JSON.stringify(value), 'PX', o.ttlMs);
      return value;
    },
    close: async () => void (await redis.quit()),
  };
}

/** cache-manager v7 with a Keyv Redis store (its docs' Redis setup); `wrap` coalesces calls within one process. */
async function cacheManagerWrap(o: StrategyOptions): Promise<Strategy> {
  const { createCache } = await import('cache-manager');
  const { Keyv } = await import('keyv');
  const { default: KeyvRedis } = await import('@keyv/redis');
  const store = new Keyv({ store: new KeyvRedis(o.redisUrl), namespace: o.namespace });
  const cache = createCache({ stores: [store], ttl: o.ttlMs });
  return {
    getOrCompute: (key, factory) => cache.wrap(key, factory, o.ttlMs),
    close: async () => void (await cache.disconnect()),
  };
}

/** BentoCache as its multi-tier docs show: L2 Redis (+ L1 memory and a Redis bus), with a grace period. */
async function bentoCache(o: StrategyOptions, withL1AndBus: boolean): Promise<Strategy> {
  const { BentoCache, bentostore } = await import('bentocache');
  const { redisDriver, redisBusDriver } = await import('bentocache/drivers/redis');
  const { memoryDriver } = await import('bentocache/drivers/memory');
  const connection = new Redis(o.redisUrl);
  let store = bentostore({ prefix: o.namespace });
  if (withL1AndBus) store = store.useL1Layer(memoryDriver({ maxSize: 10 * 1024 * 1024 }));
  store = store.useL2Layer(redisDriver({ connection }));
  if (withL1AndBus) store = store.useBus(redisBusDriver({ connection: { ...parseRedisUrl(o.redisUrl) } }));
  const bento = new BentoCache({ default: 'cache', stores: { cache: store } });
  return {
    getOrCompute: (key, factory) => bento.getOrSet({ key, factory, ttl: o.ttlMs, grace: GRACE_MS }),
    close: async () => {
      await bento.disconnectAll();
      connection.disconnect();
    },
  };
}

/** This library through its public API only: L1 + Redis L2, single flight, XFetch, stale values. */
async function stampedeCache(o: StrategyOptions): Promise<Strategy> {
  const cache = await StampedeCache.create({
    redis: o.redisUrl,
    namespace: o.namespace,
    defaults: { ttl: o.ttlMs, staleTtl: GRACE_MS, beta: o.beta ?? 1 },
  });
  return {
    getOrCompute: async (key, factory) => (await cache.getOrComputeWithStatus(key, () => factory())).value,
    close: () => cache.close(),
  };
}

function parseRedisUrl(url: string): { host: string; port: number; db?: number } {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port || 6379), ...(u.pathname.length > 1 ? { db: Number(u.pathname.slice(1)) } : {}) };
}
