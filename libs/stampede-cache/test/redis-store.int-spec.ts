import Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { setTimeout as wait } from 'node:timers/promises';
import { NotARedisFailure } from '../src/redis/redis-guard';
import { RedisStore } from '../src/redis/redis.store';
import { cacheStoreContract } from '../src/testing/store-contract';
import { deleteNamespace } from '../src/testing/redis-harness';
import { TEST_REDIS_URL } from '../src/testing/test-redis';

describe('RedisStore (real Redis)', () => {
  const namespace = `sc-test-${randomUUID()}`;
  const client = new Redis(TEST_REDIS_URL);

  afterAll(async () => {
    await deleteNamespace(client, namespace);
    await client.quit();
  });

  describe('store contract', () => {
    // Expiry happens inside Redis, on its clock: the contract waits for it for real.
    cacheStoreContract(() => ({ store: new RedisStore(client, namespace), now: () => Date.now(), pass: (ms) => wait(ms) }));
  });

  it('wraps the key id in a hash tag shared by the entry, its lock and its fence (slots are checked in the Cluster suite)', () => {
    const store = new RedisStore(client, namespace);
    expect(store.entryKey('a%7Bb')).toBe(`${namespace}:{a%7Bb}`);
    expect(store.lockKey('a%7Bb')).toBe(`${namespace}:{a%7Bb}:lock`);
    expect(store.fenceKey('a%7Bb')).toBe(`${namespace}:{a%7Bb}:fence`);
    expect(store.tagKey('user:{1}')).toBe(`${namespace}:tag:{user%3A%7B1%7D}`);
  });

  it('sets the physical TTL to staleUntil, and expires tag versions and fences instead of keeping them forever', async () => {
    const store = new RedisStore(client, namespace);
    const lock = await store.tryLock('ttl', 'owner', 1_000, 30_000);
    if (!lock.acquired) throw new Error('locked');
    const now = Date.now();
    await store.write('ttl', { value: 1, computedAt: now, expiresAt: now + 1_000, staleUntil: now + 5_000, delta: 1, fence: lock.fence });
    const pttl = await client.pttl(store.entryKey('ttl'));
    expect(pttl).toBeGreaterThan(4_000);
    expect(pttl).toBeLessThanOrEqual(5_000);
    expect(await client.pttl(store.fenceKey('ttl'))).toBeGreaterThan(25_000);
    await store.bumpTags(['t'], 7_000);
    const tagTtl = await client.pttl(store.tagKey('t'));
    expect(tagTtl).toBeGreaterThan(6_000);
    expect(tagTtl).toBeLessThanOrEqual(7_000);
  });

  it('refuses a value JSON cannot represent with an error that is not a Redis failure (the breaker ignores it)', async () => {
    const store = new RedisStore(client, namespace);
    const lock = await store.tryLock('bigint', 'owner', 1_000, 30_000);
    if (!lock.acquired) throw new Error('locked');
    const now = Date.now();
    const entry = { value: 10n, computedAt: now, expiresAt: now + 1_000, staleUntil: now + 5_000, delta: 1, fence: lock.fence };
    await expect(store.write('bigint', entry)).rejects.toBeInstanceOf(NotARedisFailure);
  });

  it('invalidates every key of the namespace with an entry or a lock, each with a new fence', async () => {
    const own = `sc-all-${randomUUID()}`;
    const store = new RedisStore(client, own);
    const locked = await store.tryLock('held', 'owner', 10_000, 30_000);
    const written = await store.tryLock('stored', 'owner', 10_000, 30_000);
    if (!locked.acquired || !written.acquired) throw new Error('locked');
    const now = Date.now();
    await store.write('stored', {
      value: 1,
      computedAt: now,
      expiresAt: now + 9_000,
      staleUntil: now + 9_000,
      delta: 1,
      fence: written.fence,
    });
    await store.invalidateAll(30_000);
    await expect(store.get('stored')).resolves.toBeUndefined();
    // The holder of 'held' started before: its write is fenced out, and its lock is broken.
    const entry = { value: 2, computedAt: now, expiresAt: now + 9_000, staleUntil: now + 9_000, delta: 1, fence: locked.fence };
    await expect(store.write('held', entry)).resolves.toBe(false);
    await expect(store.tryLock('held', 'other', 1_000, 30_000)).resolves.toMatchObject({ acquired: true });
    await deleteNamespace(client, own);
  });
});
