import { randomUUID } from 'node:crypto';
import type { CacheEntry, CacheStore } from '../stores/cache-store';

/** What the contract needs from a store under test. */
export interface ContractSubject {
  store: CacheStore;
  /** The store's notion of now (epoch ms). */
  now(): number;
  /** Lets `ms` pass for the store (a manual clock moves; a Redis test waits for its server-side expiry). */
  pass(ms: number): Promise<void>;
}

/**
 * The behaviour every {@link CacheStore} must have. Call inside a `describe` with a
 * factory returning a fresh subject; ids are random per test so stores sharing a Redis
 * never collide.
 */
export function cacheStoreContract(makeSubject: () => Promise<ContractSubject> | ContractSubject): void {
  let store: CacheStore;
  let subject: ContractSubject;
  const id = () => `contract-${randomUUID()}`;
  const entry = (fence: number, overrides: Partial<CacheEntry> = {}): CacheEntry => {
    const now = subject.now();
    return {
      value: { answer: 42, list: ['a', 'b'] },
      computedAt: now,
      expiresAt: now + 10_000,
      staleUntil: now + 20_000,
      delta: 12.5,
      fence,
      ...overrides,
    };
  };
  const lock = async (key: string, owner = randomUUID()) => {
    const attempt = await store.tryLock(key, owner, 5_000, 60_000);
    if (!attempt.acquired) throw new Error('lock not acquired');
    await store.unlock(key, owner);
    return attempt.fence;
  };

  beforeEach(async () => {
    subject = await makeSubject();
    store = subject.store;
  });

  it('returns undefined for a missing key', async () => {
    await expect(store.get(id())).resolves.toBeUndefined();
  });

  it('round-trips an entry written with the fence of its lock, XFetch parameters and tag versions included', async () => {
    const key = id();
    const stored = entry(await lock(key), { tags: { users: 3 } });
    await expect(store.write(key, stored)).resolves.toBe(true);
    await expect(store.get(key)).resolves.toEqual(stored);
  });

  it('issues strictly growing fences, and accepts a write only with the latest one', async () => {
    const key = id();
    const older = await lock(key);
    const newer = await lock(key);
    expect(newer).toBeGreaterThan(older);
    await expect(store.write(key, entry(older, { value: 'old' }))).resolves.toBe(false);
    await expect(store.write(key, entry(newer, { value: 'new' }))).resolves.toBe(true);
    await expect(store.write(key, entry(older, { value: 'old' }))).resolves.toBe(false);
    expect((await store.get(key))?.value).toBe('new');
  });

  it('reads the fence clock: fences issued after a reading are at least that reading', async () => {
    const key = id();
    const before = await store.fenceClock(key);
    await subject.pass(2);
    const lock = await store.tryLock(key, 'owner', 1_000, 10_000);
    expect(lock.acquired && lock.fence).toBeGreaterThanOrEqual(before);
    expect(await store.fenceClock(key)).toBeGreaterThanOrEqual(before);
  });

  it('rejects a write without a fence issued for the key', async () => {
    await expect(store.write(id(), entry(123))).resolves.toBe(false);
  });

  it('invalidates: deletes the entry and fences out every computation that started before', async () => {
    const key = id();
    const fence = await lock(key);
    await store.write(key, entry(fence));
    const inFlight = await lock(key);
    const invalidation = await store.invalidate(key, 60_000);
    expect(invalidation).toBeGreaterThan(inFlight);
    await expect(store.get(key)).resolves.toBeUndefined();
    await expect(store.write(key, entry(inFlight))).resolves.toBe(false);
    await expect(store.get(key)).resolves.toBeUndefined();
    const after = await lock(key);
    await expect(store.write(key, entry(after, { value: 'after' }))).resolves.toBe(true);
  });

  it('extends exactly the stored entry (fail-safe): not after an invalidation or a newer value', async () => {
    const key = id();
    const first = await lock(key);
    await store.write(key, entry(first, { value: 'v1' }));
    const retry = await lock(key);
    await expect(store.write(key, entry(retry, { value: 'v1', failSafe: true }), first)).resolves.toBe(true);
    expect(await store.get(key)).toMatchObject({ value: 'v1', failSafe: true, fence: retry });
    await expect(store.write(key, entry(retry, { value: 'v1' }), first)).resolves.toBe(false); // no longer the stored entry
    const third = await lock(key);
    await store.invalidate(key, 60_000);
    await expect(store.write(key, entry(third, { value: 'v1' }), retry)).resolves.toBe(false);
  });

  it('keeps keys independent', async () => {
    const [a, b] = [id(), id()];
    await store.write(a, entry(await lock(a), { value: 'a' }));
    await store.write(b, entry(await lock(b), { value: 'b' }));
    expect((await store.get(a))?.value).toBe('a');
    expect((await store.get(b))?.value).toBe('b');
  });

  it('drops an entry at staleUntil', async () => {
    const key = id();
    await store.write(key, entry(await lock(key), { expiresAt: subject.now() + 20, staleUntil: subject.now() + 80 }));
    expect(await store.get(key)).toBeDefined();
    await subject.pass(150);
    await expect(store.get(key)).resolves.toBeUndefined();
  });

  it('grants a lock to one owner, reports its remaining time to others, renews and releases only for the owner', async () => {
    const key = id();
    expect(await store.tryLock(key, 'owner', 5_000, 60_000)).toMatchObject({ acquired: true });
    const contender = await store.tryLock(key, 'other', 5_000, 60_000);
    expect(contender.acquired).toBe(false);
    if (!contender.acquired) expect(contender.remainingMs).toBeGreaterThan(4_000);
    await expect(store.renewLock(key, 'other', 9_000)).resolves.toBe(false);
    await expect(store.renewLock(key, 'owner', 9_000)).resolves.toBe(true);
    const renewed = await store.tryLock(key, 'other', 5_000, 60_000);
    if (!renewed.acquired) expect(renewed.remainingMs).toBeGreaterThan(8_000);
    await expect(store.unlock(key, 'other')).resolves.toBe(false);
    await expect(store.unlock(key, 'owner')).resolves.toBe(true);
    expect(await store.tryLock(key, 'other', 5_000, 60_000)).toMatchObject({ acquired: true });
    await store.unlock(key, 'other');
  });

  it('lets a lock expire by itself when its owner never releases it', async () => {
    const key = id();
    await store.tryLock(key, 'dead-owner', 60, 60_000);
    expect((await store.tryLock(key, 'next', 60, 60_000)).acquired).toBe(false);
    await subject.pass(150);
    expect(await store.tryLock(key, 'next', 1_000, 60_000)).toMatchObject({ acquired: true });
    await expect(store.unlock(key, 'dead-owner')).resolves.toBe(false);
    await store.unlock(key, 'next');
  });

  it('reports absent tags, creates them on stamping, and bumps them to greater versions', async () => {
    const [users, scores] = [`users-${randomUUID()}`, `scores-${randomUUID()}`];
    await expect(store.tagVersions([users], { create: false })).resolves.toEqual({ [users]: undefined });
    const stamped = await store.tagVersions([users, scores], { create: true, ttlMs: 60_000 });
    expect(stamped[users]).toBeGreaterThan(0);
    await expect(store.tagVersions([users, scores], { create: false })).resolves.toEqual(stamped);
    await expect(store.tagVersions([users], { create: true, ttlMs: 60_000 })).resolves.toEqual({ [users]: stamped[users] });
    const bumped = await store.bumpTags([users, users], 60_000);
    expect(bumped[users]).toBeGreaterThan(stamped[users]!);
    const again = await store.bumpTags([users, scores], 60_000);
    expect(again[users]).toBeGreaterThan(bumped[users]);
    expect(again[scores]).toBeGreaterThan(stamped[scores]!);
    await expect(store.tagVersions([users, scores], { create: false })).resolves.toEqual(again);
    await expect(store.tagVersions([], { create: false })).resolves.toEqual({});
  });

  it('keeps existing tags for at least a given time, and does not create absent ones', async () => {
    const [kept, absent] = [`kept-${randomUUID()}`, `absent-${randomUUID()}`];
    const stamped = await store.tagVersions([kept], { create: true, ttlMs: 60 });
    await store.keepTags([kept, absent], 60_000);
    await subject.pass(150);
    await expect(store.tagVersions([kept, absent], { create: false })).resolves.toEqual({ [kept]: stamped[kept], [absent]: undefined });
  });

  it('creates an absent tag with a given version, and forgets tags after their ttl with a greater version next time', async () => {
    const tag = `t-${randomUUID()}`;
    await expect(store.tagVersions([tag], { create: true, ttlMs: 60, createAt: 77 })).resolves.toEqual({ [tag]: 77 });
    await subject.pass(150);
    await expect(store.tagVersions([tag], { create: false })).resolves.toEqual({ [tag]: undefined });
    const recreated = await store.tagVersions([tag], { create: true, ttlMs: 60_000 });
    expect(recreated[tag]).toBeGreaterThan(77);
  });
}
