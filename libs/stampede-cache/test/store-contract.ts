import { randomUUID } from 'node:crypto';
import type { CacheEntry, CacheStore } from '../src/stores/cache-store';
import { sleep } from '../src/timing';

/**
 * The behaviour every {@link CacheStore} must have. Call inside a `describe` with a
 * factory returning a fresh store (and an optional cleanup); ids are random per test so
 * stores sharing a Redis never collide.
 */
export function cacheStoreContract(makeStore: () => Promise<CacheStore> | CacheStore, cleanup?: (store: CacheStore) => Promise<void>): void {
  let store: CacheStore;
  const id = () => `contract-${randomUUID()}`;
  const entry = (overrides: Partial<CacheEntry> = {}): CacheEntry => {
    const now = Date.now();
    return { value: { answer: 42, list: ['a', 'b'] }, computedAt: now, expiresAt: now + 1_000, staleUntil: now + 2_000, delta: 12.5, ...overrides };
  };

  beforeEach(async () => {
    store = await makeStore();
  });
  afterEach(async () => {
    await cleanup?.(store);
  });

  it('returns undefined for a missing key', async () => {
    await expect(store.get(id())).resolves.toBeUndefined();
  });

  it('round-trips an entry with its XFetch parameters and tag versions', async () => {
    const key = id();
    const stored = entry({ tags: { users: 3 } });
    await store.set(key, stored);
    await expect(store.get(key)).resolves.toEqual(stored);
  });

  it('keeps keys independent and overwrites on set', async () => {
    const [a, b] = [id(), id()];
    await store.set(a, entry({ value: 'a1' }));
    await store.set(b, entry({ value: 'b' }));
    await store.set(a, entry({ value: 'a2' }));
    expect((await store.get(a))?.value).toBe('a2');
    expect((await store.get(b))?.value).toBe('b');
  });

  it('drops an entry at staleUntil, and never stores an already-dead one', async () => {
    const [short, dead] = [id(), id()];
    await store.set(short, entry({ expiresAt: Date.now() + 20, staleUntil: Date.now() + 80 }));
    await store.set(dead, entry({ staleUntil: Date.now() - 1 }));
    expect(await store.get(short)).toBeDefined();
    await expect(store.get(dead)).resolves.toBeUndefined();
    await sleep(120);
    await expect(store.get(short)).resolves.toBeUndefined();
  });

  it('deletes an entry', async () => {
    const key = id();
    await store.set(key, entry());
    await store.delete(key);
    await expect(store.get(key)).resolves.toBeUndefined();
  });

  it('grants a lock to one owner, reports its remaining time to others, and releases only for the owner', async () => {
    const key = id();
    await expect(store.tryLock(key, 'owner', 5_000)).resolves.toEqual({ acquired: true });
    const contender = await store.tryLock(key, 'other', 5_000);
    expect(contender.acquired).toBe(false);
    if (!contender.acquired) expect(contender.remainingMs).toBeGreaterThan(4_000);
    await expect(store.unlock(key, 'other')).resolves.toBe(false);
    await expect(store.unlock(key, 'owner')).resolves.toBe(true);
    await expect(store.tryLock(key, 'other', 5_000)).resolves.toEqual({ acquired: true });
    await store.unlock(key, 'other');
  });

  it('lets a lock expire by itself when its owner never releases it', async () => {
    const key = id();
    await store.tryLock(key, 'dead-owner', 60);
    expect((await store.tryLock(key, 'next', 60)).acquired).toBe(false);
    await sleep(100);
    await expect(store.tryLock(key, 'next', 1_000)).resolves.toEqual({ acquired: true });
    await expect(store.unlock(key, 'dead-owner')).resolves.toBe(false);
    await store.unlock(key, 'next');
  });

  it('keeps entries and locks apart', async () => {
    const key = id();
    await store.set(key, entry({ value: 'kept' }));
    await store.tryLock(key, 'owner', 1_000);
    await store.unlock(key, 'owner');
    expect((await store.get(key))?.value).toBe('kept');
  });

  it('starts tag versions at 0 and bumps each tag once per call', async () => {
    const [users, scores] = [`users-${randomUUID()}`, `scores-${randomUUID()}`];
    await expect(store.tagVersions([users, scores])).resolves.toEqual({ [users]: 0, [scores]: 0 });
    await store.bumpTags([users, users]);
    await store.bumpTags([users, scores]);
    await expect(store.tagVersions([users, scores])).resolves.toEqual({ [users]: 2, [scores]: 1 });
    await expect(store.tagVersions([])).resolves.toEqual({});
  });
}
