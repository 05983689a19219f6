import Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { RedisStore } from '../src/stores/redis.store';
import { cacheStoreContract } from './store-contract';
import { deleteNamespace } from './redis-harness';
import { TEST_REDIS_URL } from './test-redis';

describe('RedisStore (real Redis)', () => {
  const namespace = `sc-test-${randomUUID()}`;
  const client = new Redis(TEST_REDIS_URL);

  afterAll(async () => {
    await deleteNamespace(client, namespace);
    await client.quit();
  });

  describe('store contract', () => {
    cacheStoreContract(() => new RedisStore(client, namespace));
  });

  it('wraps the key id in a hash tag shared by the entry and its lock (slots are checked in the Cluster suite)', () => {
    const store = new RedisStore(client, namespace);
    expect(store.entryKey('a%7Bb')).toBe(`${namespace}:{a%7Bb}`);
    expect(store.lockKey('a%7Bb')).toBe(`${namespace}:{a%7Bb}:lock`);
  });

  it('sets the physical TTL to staleUntil', async () => {
    const store = new RedisStore(client, namespace);
    const now = Date.now();
    await store.set('ttl', { value: 1, computedAt: now, expiresAt: now + 1_000, staleUntil: now + 5_000, delta: 1 });
    const pttl = await client.pttl(store.entryKey('ttl'));
    expect(pttl).toBeGreaterThan(4_000);
    expect(pttl).toBeLessThanOrEqual(5_000);
  });
});
