import { cacheStoreContract } from '../../test/store-contract';
import type { CacheEntry } from './cache-store';
import { MemoryStore } from './memory.store';

describe('MemoryStore', () => {
  describe('store contract', () => {
    cacheStoreContract(() => new MemoryStore());
  });

  it('evicts the least recently used entry beyond maxEntries', async () => {
    const store = new MemoryStore({ maxEntries: 2 });
    const entry = (value: string): CacheEntry => ({ value, computedAt: 0, expiresAt: Date.now() + 1_000, staleUntil: Date.now() + 1_000, delta: 0 });
    await store.set('a', entry('a'));
    await store.set('b', entry('b'));
    await store.get('a'); // touch a, so b is the LRU victim
    await store.set('c', entry('c'));
    expect(await store.get('b')).toBeUndefined();
    expect((await store.get('a'))?.value).toBe('a');
    expect((await store.get('c'))?.value).toBe('c');
  });
});
