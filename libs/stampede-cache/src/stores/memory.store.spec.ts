import { cacheStoreContract } from '../testing/store-contract';
import { ManualClock } from '../testing/manual-clock';
import type { CacheEntry } from './cache-store';
import { MemoryStore } from './memory.store';

describe('MemoryStore', () => {
  describe('store contract', () => {
    cacheStoreContract(() => {
      const clock = new ManualClock();
      return { store: new MemoryStore({}, clock), now: () => clock.now(), pass: (ms) => clock.advance(ms) };
    });
  });

  const entry = (value: unknown, fence: number, negative = false): CacheEntry => ({
    value,
    computedAt: 0,
    expiresAt: Date.now() + 60_000,
    staleUntil: Date.now() + 60_000,
    delta: 0,
    fence,
    negative,
  });
  const write = async (store: MemoryStore, id: string, value: unknown, negative = false) => {
    const lock = await store.tryLock(id, 'owner', 1_000, 60_000);
    if (!lock.acquired) throw new Error('locked');
    await store.write(id, entry(value, lock.fence, negative));
    await store.unlock(id, 'owner');
  };

  it('evicts the least recently used entry beyond maxEntries', async () => {
    const store = new MemoryStore({ maxEntries: 2 });
    await write(store, 'a', 'a');
    await write(store, 'b', 'b');
    await store.get('a'); // touch a, so b is the LRU victim
    await write(store, 'c', 'c');
    expect(await store.get('b')).toBeUndefined();
    expect((await store.get('a'))?.value).toBe('a');
    expect((await store.get('c'))?.value).toBe('c');
  });

  it('bounds the bytes held, and keeps negative results apart so they cannot evict values', async () => {
    const store = new MemoryStore({ maxBytes: 10_000, maxNegativeEntries: 3 });
    for (let i = 0; i < 20; i++) await write(store, `big-${i}`, 'x'.repeat(1_000));
    expect(store.usage.bytes).toBeLessThanOrEqual(10_000);
    expect(store.usage.entries).toBeLessThan(20);
    await write(store, 'kept', 'value');
    for (let i = 0; i < 50; i++) await write(store, `unknown-${i}`, null, true);
    expect(store.usage.negativeEntries).toBe(3);
    expect((await store.get('kept'))?.value).toBe('value');
  });
});
