import { Cluster } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { StampedeCache } from '../src/core/stampede-cache.service';
import { RedisStore } from '../src/redis/redis.store';
import { setTimeout as pace } from 'node:timers/promises';
import { eventually } from '../../../test/eventually';
import { watchCallers } from '../src/testing/callers';
import { deferred } from '../src/testing/manual-clock';
import { deleteNamespace, startRedisCluster } from '../src/testing/redis-harness';
import { cacheStoreContract } from '../src/testing/store-contract';

/** A real 3-master Redis Cluster started by this test on free loopback ports. */
describe('Redis Cluster', () => {
  let cluster: { ports: number[]; stop: () => Promise<void> };
  let client: Cluster;
  const namespace = `sc-cluster-${randomUUID()}`;
  const connect = () =>
    new Cluster(
      cluster.ports.map((port) => ({ host: '127.0.0.1', port })),
      { enableOfflineQueue: true },
    );

  beforeAll(async () => {
    cluster = await startRedisCluster();
    client = connect();
    await client.ping();
  }, 60_000);

  afterAll(async () => {
    await deleteNamespace(client, namespace).catch(() => undefined);
    client?.disconnect();
    await cluster?.stop();
  });

  describe('RedisStore contract through ioredis Cluster', () => {
    // Expiry happens inside Redis: the contract waits for it for real.
    cacheStoreContract(() => ({ store: new RedisStore(client, namespace), now: () => Date.now(), pass: (ms) => pace(ms) }));
  });

  it('keeps an entry and its lock in one slot while spreading keys over the masters', async () => {
    const store = new RedisStore(client, namespace);
    const slotOf = (key: string) => client.cluster('KEYSLOT', key);
    const ids = Array.from({ length: 30 }, (_, i) => `key-${i}`);
    const slots = await Promise.all(ids.map(async (id) => [await slotOf(store.entryKey(id)), await slotOf(store.lockKey(id))]));
    expect(slots.every(([entrySlot, lockSlot]) => entrySlot === lockSlot)).toBe(true);
    expect(new Set(slots.map(([slot]) => slot)).size).toBeGreaterThan(20);
  });

  it('runs the factory once for concurrent calls from 3 instances on the Cluster', async () => {
    const clients = [connect(), connect(), connect()];
    const instances = await Promise.all(clients.map((redis) => StampedeCache.create({ redis, namespace })));
    try {
      let runs = 0;
      const origin = deferred<void>();
      const factory = async () => {
        runs += 1;
        await origin.promise; // a slow origin: it answers once every caller has arrived
        return 'v';
      };
      const key = instances[0].buildKey('cluster-hot', { run: randomUUID() });
      const callers = watchCallers();
      const calls = Array.from({ length: 300 }, (_, i) => instances[i % 3].getOrCompute(key, factory));
      await eventually(() => callers.inFlight(300), 5_000, 'every caller to join a flight').finally(callers.stop);
      origin.resolve();
      const results = await Promise.all(calls);
      expect(runs).toBe(1);
      expect(results.every((value) => value === 'v')).toBe(true);

      // Tag invalidation over sharded Cluster pub/sub reaches every instance's L1 before it returns.
      const read = (cache: StampedeCache, value: string) => cache.getOrCompute('tagged', async () => value, { tags: ['t'] });
      for (const cache of instances) expect(await read(cache, 'v1')).toBe('v1');
      await instances[2].invalidateTags(['t']); // returns once every instance has applied it
      for (const cache of instances) expect(await read(cache, 'v2')).toBe('v2');
    } finally {
      await Promise.all(instances.map((cache) => cache.close()));
      // User-supplied clients stay open after close(): the module only closes what it created.
      expect(clients.every((redis) => redis.status === 'ready')).toBe(true);
      clients.forEach((redis) => redis.disconnect());
    }
  });
});
