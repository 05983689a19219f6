import Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { StampedeCache } from '../src/core/stampede-cache.service';
import { RedisStore } from '../src/redis/redis.store';
import { eventually } from '../../../test/eventually';
import { watchCallers } from '../src/testing/callers';
import { deferred } from '../src/testing/manual-clock';
import { metricValue } from '../src/testing/metric-value';
import { deleteNamespace } from '../src/testing/redis-harness';
import { TEST_REDIS_URL as REDIS_URL } from '../src/testing/test-redis';

/** Three caches with their own connections stand for three instances of the service. */
describe('StampedeCache across instances (real Redis)', () => {
  let namespace: string;
  let instances: StampedeCache[];
  const admin = new Redis(REDIS_URL);
  const start = (extra: Parameters<typeof StampedeCache.create>[0] = {}) =>
    StampedeCache.create({ redis: REDIS_URL, namespace, random: () => 1, ...extra });

  beforeEach(async () => {
    namespace = `sc-int-${randomUUID()}`;
    instances = await Promise.all([1, 2, 3].map(() => start()));
    // Until an instance has heard itself, readers queue instead of joining (it could have missed an invalidation).
    await eventually(() => instances.every((cache) => cache.listening), 5_000, 'every instance to hear its own heartbeat');
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
    const gate = deferred<void>();
    const factory = async () => {
      runs += 1;
      await gate.promise;
      return { computedBy: runs };
    };
    const callers = watchCallers();
    const calls = Array.from({ length: 500 }, (_, i) => instances[i % 3].getOrComputeWithStatus('hot', factory));
    const lockWaits = async () =>
      (await Promise.all(instances.map((cache) => metricValue(cache.registry, 'cache_lock_waits_total', {})))).reduce((a, b) => a + b, 0);
    await eventually(
      async () => (await callers.inFlight(500)) && (await lockWaits()) >= 2,
      5_000,
      'every caller to join a flight and the two other instances to wait on the lock',
    ).finally(callers.stop);
    gate.resolve();
    const results = await Promise.all(calls);
    expect(runs).toBe(1);
    expect(results.every((result) => result.value.computedBy === 1 && result.status === 'MISS')).toBe(true);
    expect(await lockWaits()).toBe(2); // the two lock losers waited for the winner's write
  });

  it('serves the stale value at once, on every instance, while one instance refreshes', async () => {
    const [a, b, c] = instances;
    await a.getOrCompute('k', async () => 'old', { ttl: 1 });
    await new Promise((resolve) => setTimeout(resolve, 5)); // real time: the 1 ms ttl must pass on the clock Redis and the cache share
    const refreshing = deferred<string>();
    let refreshStarted!: () => void;
    const started = new Promise<void>((resolve) => (refreshStarted = resolve));
    const refresh = a.getOrCompute('k', () => (refreshStarted(), refreshing.promise));
    await started;
    const others = await Promise.all([a, b, c, b, c].map((cache) => cache.getOrComputeWithStatus('k', async () => 'not me')));
    expect(others.map((result) => [result.value, result.status])).toEqual(Array(5).fill(['old', 'STALE']));
    refreshing.resolve('new');
    await expect(refresh).resolves.toBe('new');
    await expect(c.getOrComputeWithStatus('k', async () => 'not me')).resolves.toMatchObject({ value: 'new', status: 'HIT' });
  });

  it('takes over from a lock holder that died once its lease runs out, not after a long fixed lock', async () => {
    const [, b] = instances;
    const key = b.buildKey('report', { id: 7 });
    await admin.set(new RedisStore(admin, namespace).lockKey(key.id), 'foreign-dead-owner', 'PX', 300); // never renewed
    const startedAt = Date.now();
    await expect(b.getOrComputeWithStatus(key, async () => 'computed by b')).resolves.toMatchObject({
      value: 'computed by b',
      status: 'MISS',
    });
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(280);
    expect(Date.now() - startedAt).toBeLessThan(2_000); // woke at the lease's end
    expect(await metricValue(b.registry, 'cache_lock_waits_total', {})).toBe(1);
  });

  it('wakes the waiters of every instance as soon as the holder fails: stale or the typed error, and nobody computes meanwhile', async () => {
    const [a, b, c] = instances;
    const holding = deferred<string>();
    let held!: () => void;
    const lockTaken = new Promise<void>((resolve) => (held = resolve));
    const holder = a.getOrComputeWithStatus('cold', () => (held(), holding.promise)).catch((error: unknown) => error);
    await lockTaken;
    let othersRan = 0;
    const waiters = [b, c].map((cache) =>
      cache.getOrCompute('cold', async () => ((othersRan += 1), 'other')).catch((error: unknown) => ({ error, at: Date.now() })),
    );
    const lockWaits = () => Promise.all([b, c].map((cache) => metricValue(cache.registry, 'cache_lock_waits_total', {})));
    await eventually(async () => (await lockWaits()).every((waits) => waits === 1), 5_000, 'both other instances to wait on the lock');
    const failedAt = Date.now();
    holding.reject(Object.assign(new Error('connection refused'), { code: 'ECONNREFUSED' }));
    const outcomes = (await Promise.all(waiters)) as Array<{
      error: Error & { code: string; cause: Error & { code?: string } };
      at: number;
    }>;
    await expect(holder).resolves.toMatchObject({ code: 'CACHE.FACTORY_FAILED' });
    expect(othersRan).toBe(0);
    for (const outcome of outcomes) {
      expect(outcome.error).toMatchObject({ code: 'CACHE.FACTORY_FAILED' });
      expect(outcome.error.cause).toMatchObject({ message: 'connection refused', code: 'ECONNREFUSED' });
      expect(outcome.at - failedAt).toBeLessThan(100);
    }
  });

  it('serves stale when the factory fails, and other instances honour the backoff', async () => {
    const [a, b, c] = instances;
    await a.getOrCompute('k', async () => 'old', { ttl: 1 });
    await new Promise((resolve) => setTimeout(resolve, 5)); // real time: the 1 ms ttl must pass
    let failures = 0;
    const failing = async (): Promise<string> => {
      failures += 1;
      throw new Error('origin down');
    };
    await expect(b.getOrComputeWithStatus('k', failing)).resolves.toMatchObject({ value: 'old', status: 'STALE' });
    await expect(c.getOrComputeWithStatus('k', failing)).resolves.toMatchObject({ value: 'old', status: 'STALE' });
    expect(failures).toBe(1);
  });

  it('once invalidateTags / invalidate return, no instance serves the old value: no waiting for delivery', async () => {
    let version = 1;
    const read = (cache: StampedeCache, key: string) => cache.getOrCompute(key, async () => `v${version}`, { tags: ['board'] });
    for (const cache of instances) expect(await read(cache, 'tagged')).toBe('v1'); // every L1 now holds v1
    version = 2;
    await instances[0].invalidateTags(['board']);
    for (const cache of instances) expect(await read(cache, 'tagged')).toBe('v2');

    version = 3;
    await instances[1].invalidate('tagged');
    for (const cache of instances) expect(await read(cache, 'tagged')).toBe('v3');
  });

  it('never lets a computation that started before an invalidation elsewhere into any L1 or L2 afterwards', async () => {
    const [a, b, c] = instances;
    const slow = deferred<string>();
    let began!: () => void;
    const computing = new Promise<void>((resolve) => (began = resolve));
    const before = a.getOrCompute('user', () => (began(), slow.promise), { tags: ['user:1'] });
    await computing;
    await b.invalidateTags(['user:1']); // the rename committed after a's computation read the old name
    slow.resolve('old name');
    await expect(before).resolves.toBe('old name'); // its own caller began before the invalidation
    for (const cache of [a, b, c]) {
      await expect(cache.getOrComputeWithStatus('user', async () => 'new name', { tags: ['user:1'] })).resolves.toMatchObject({
        value: 'new name',
      });
    }
  });

  it('lets an older computation that outlived its lock never overwrite a newer value', async () => {
    const [a, b] = instances;
    const slow = deferred<string>();
    let began!: () => void;
    const computing = new Promise<void>((resolve) => (began = resolve));
    const old = a.getOrCompute('k', () => (began(), slow.promise), { lockTtl: 60 });
    await computing;
    await admin.del(new RedisStore(admin, namespace).lockKey('k')); // a's lease is gone (say a paused for too long)
    await expect(b.getOrCompute('k', async () => 'newer')).resolves.toBe('newer');
    slow.resolve('older');
    await old;
    for (const cache of instances) await expect(cache.getOrCompute('k', async () => 'unused')).resolves.toBe('newer');
  });
});
