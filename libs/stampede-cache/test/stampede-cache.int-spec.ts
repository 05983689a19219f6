import Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { StampedeCache } from '../src/stampede-cache.service';
import { RedisStore } from '../src/stores/redis.store';
import { sleep } from '../src/timing';
import { metricValue } from './metric-value';
import { deleteNamespace } from './redis-harness';
import { TEST_REDIS_URL as REDIS_URL } from './test-redis';

/** Three caches with their own connections stand for three instances of the service. */
describe('StampedeCache across instances (real Redis)', () => {
  let namespace: string;
  let instances: StampedeCache[];
  const admin = new Redis(REDIS_URL);

  beforeEach(async () => {
    namespace = `sc-int-${randomUUID()}`;
    instances = await Promise.all([1, 2, 3].map(() => StampedeCache.create({ redis: REDIS_URL, namespace, random: () => 1 })));
  });
  afterEach(async () => {
    await Promise.all(instances.map((cache) => cache.close()));
    await deleteNamespace(admin, namespace);
  });
  afterAll(async () => {
    await admin.quit();
  });

  it('runs the factory exactly once for 500 concurrent calls spread over 3 instances', async () => {
    let runs = 0;
    const factory = async () => {
      runs += 1;
      await sleep(100);
      return { computedBy: runs };
    };
    const results = await Promise.all(Array.from({ length: 500 }, (_, i) => instances[i % 3].getOrComputeWithStatus('hot', factory)));
    expect(runs).toBe(1);
    expect(results.every((result) => result.value.computedBy === 1 && result.status === 'MISS')).toBe(true);
    const lockWaits = await Promise.all(instances.map((cache) => metricValue(cache.registry, 'cache_lock_waits_total', {})));
    expect(lockWaits.reduce((a, b) => a + b, 0)).toBe(2); // the two lock losers waited for the winner's write
  });

  it('serves the stale value at once, on every instance, while one instance refreshes', async () => {
    const [a, b, c] = instances;
    await a.getOrCompute('k', async () => 'old', { ttl: 30 });
    await sleep(50);
    let refreshFinishedAt = 0;
    const refresh = a.getOrCompute('k', async () => {
      await sleep(300);
      refreshFinishedAt = Date.now();
      return 'new';
    });
    await sleep(20); // let the refresh take the lock
    const others = await Promise.all([a, b, c, b, c].map(async (cache) => ({ ...(await cache.getOrComputeWithStatus('k', async () => 'not me')), at: Date.now() })));
    expect(others.map((result) => [result.value, result.status])).toEqual(Array(5).fill(['old', 'STALE']));
    expect(refreshFinishedAt).toBe(0); // everyone above returned before the factory finished
    await expect(refresh).resolves.toBe('new');
    expect(Math.max(...others.map((result) => result.at))).toBeLessThan(refreshFinishedAt);
    await expect(c.getOrComputeWithStatus('k', async () => 'not me')).resolves.toMatchObject({ value: 'new', status: 'HIT' });
  });

  it('lets a lock whose owner died expire, then another instance computes', async () => {
    const [, b] = instances;
    const key = b.buildKey('report', { id: 7 });
    await admin.set(new RedisStore(admin, namespace).lockKey(key.id), 'foreign-dead-owner', 'PX', 300);
    const startedAt = Date.now();
    await expect(b.getOrComputeWithStatus(key, async () => 'computed by b')).resolves.toMatchObject({ value: 'computed by b', status: 'MISS' });
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(280);
    expect(Date.now() - startedAt).toBeLessThan(2_000); // woke at the lock's expiry, not after the 10 s lockTtl
    expect(await metricValue(b.registry, 'cache_lock_waits_total', {})).toBe(1);
  });

  it('serves stale when the factory fails, and other instances honour the backoff', async () => {
    const [a, b, c] = instances;
    await a.getOrCompute('k', async () => 'old', { ttl: 30 });
    await sleep(50);
    let failures = 0;
    const failing = async (): Promise<string> => {
      failures += 1;
      throw new Error('origin down');
    };
    await expect(b.getOrComputeWithStatus('k', failing)).resolves.toMatchObject({ value: 'old', status: 'STALE' });
    await expect(c.getOrComputeWithStatus('k', failing)).resolves.toMatchObject({ value: 'old', status: 'STALE' });
    expect(failures).toBe(1);
  });

  it('invalidateTags and invalidate reach every instance, L1 included', async () => {
    let version = 1;
    const read = (cache: StampedeCache, key: string) => cache.getOrCompute(key, async () => `v${version}`, { tags: ['board'] });
    for (const cache of instances) expect(await read(cache, 'tagged')).toBe('v1'); // every L1 now holds v1
    version = 2;
    await instances[0].invalidateTags(['board']);
    await sleep(100); // pub/sub delivery
    for (const cache of instances) expect(await read(cache, 'tagged')).toBe('v2');

    version = 3;
    await instances[1].invalidate('tagged');
    await sleep(100);
    for (const cache of instances) expect(await read(cache, 'tagged')).toBe('v3');
  });
});
