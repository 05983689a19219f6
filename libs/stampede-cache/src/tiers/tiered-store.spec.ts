import { Logger } from '@nestjs/common';
import { deferred, ManualClock, settle } from '../testing/manual-clock';
import { CircuitBreaker } from '../redis/circuit-breaker';
import { L1Cache } from './l1/l1-cache';
import { DEFAULT_L1_OPTIONS } from '../core/options';
import type { CacheEntry } from '../stores/cache-store';
import { MemoryStore } from '../stores/memory.store';
import { TieredStore } from './tiered-store';
import { NO_HOOKS, RedisGuard } from '../redis/redis-guard';

/**
 * Interleavings at the level boundary, with L2 replies held back by the test: an L2 read
 * or a computation that finishes after an invalidation was heard must not put (or keep)
 * its superseded value in L1.
 */
describe('TieredStore: L1 never takes a value an invalidation superseded', () => {
  let clock: ManualClock;
  let l2: MemoryStore;
  let l1: L1Cache;
  let store: TieredStore;
  let trusted: boolean;
  const logger = new Logger('test');

  /** Holds back the next L2 `get` until the test releases it. */
  const holdNextGet = () => {
    const gate = deferred<void>();
    const original = l2.get.bind(l2);
    jest.spyOn(l2, 'get').mockImplementationOnce(async (id) => {
      const entry = await original(id);
      await gate.promise;
      return entry;
    });
    return gate;
  };

  const writeL2 = async (id: string, value: string, tags: string[] = []): Promise<CacheEntry> => {
    const lock = await l2.tryLock(id, 'seed', 1_000, 60_000);
    if (!lock.acquired) throw new Error('locked');
    const stamped = await l2.tagVersions([...tags, '*'], { create: true, ttlMs: 60_000 });
    const now = clock.now();
    const entry: CacheEntry = {
      value,
      computedAt: now,
      expiresAt: now + 60_000,
      staleUntil: now + 120_000,
      delta: 1,
      fence: lock.fence,
      tags: stamped as Record<string, number>,
    };
    await l2.write(id, entry);
    await l2.unlock(id, 'seed');
    return entry;
  };

  beforeEach(() => {
    clock = new ManualClock();
    trusted = true;
    l2 = new MemoryStore({}, clock);
    l1 = new L1Cache(DEFAULT_L1_OPTIONS, () => trusted);
    store = new TieredStore(
      l2,
      l1,
      new RedisGuard(new CircuitBreaker(5, 1_000, undefined, clock), 500, 5_000, clock, {
        ...NO_HOOKS,
        onSuccess: () => store.replaySoon(),
      }),
      clock,
      { fenceTtlMs: 60_000, tagTtlMs: 60_000 },
      100,
      logger,
    );
  });

  it('an L2 read whose tag check returns after a tag invalidation was heard does not fill L1', async () => {
    const old = await writeL2('k', 'old', ['t']);
    const gate = deferred<void>();
    const original = l2.tagVersions.bind(l2);
    jest.spyOn(l2, 'tagVersions').mockImplementationOnce(async (tags, options) => {
      const versions = await original(tags, options); // read before the bump: the old versions
      await gate.promise;
      return versions;
    });
    const read = store.readL2('k');
    await settle();
    const bumped = await l2.bumpTags(['t'], 60_000); // another instance invalidates ...
    store.applyRemote({ k: 'tags', src: 'other', versions: bumped, msg: 'm1' }); // ... and we hear it
    gate.resolve();
    await expect(read).resolves.toMatchObject({ value: 'old' }); // this reader began before the invalidation
    expect(l1.lookup('k')).toBeUndefined(); // but what we heard meanwhile keeps it out of L1
    expect(old.tags?.t).toBeLessThan(bumped.t);
  });

  it('an L2 read that returns after a key invalidation was heard does not fill L1', async () => {
    await writeL2('k', 'old');
    const gate = holdNextGet();
    const read = store.readL2('k');
    await settle();
    store.applyRemote({ k: 'deleted', src: 'other', id: 'k', fence: await l2.invalidate('k', 60_000), msg: 'm2' });
    gate.resolve();
    await expect(read).resolves.toMatchObject({ value: 'old' }); // this reader began before
    expect(l1.lookup('k')).toBeUndefined();
  });

  it('a computation that finishes after a tag invalidation was heard writes L2 (where reads reject it) but not L1', async () => {
    const lock = await store.locks.tryLock('k', 'me', 1_000);
    if (!lock.acquired) throw new Error('locked');
    const mark = store.mark();
    const stamps = await store.stampTags(['t'], { ttlMs: 60_000 });
    const bumped = await l2.bumpTags(['t'], 60_000);
    store.applyRemote({ k: 'tags', src: 'other', versions: bumped, msg: 'm3' });
    const now = clock.now();
    await store.write(
      'k',
      {
        value: 'computed before',
        computedAt: now,
        expiresAt: now + 1_000,
        staleUntil: now + 2_000,
        delta: 1,
        fence: lock.fence,
        tags: stamps,
      },
      mark,
    );
    expect(l1.lookup('k')).toBeUndefined();
    await expect(store.read('k')).resolves.toBeUndefined();
  });

  it('an L1 entry stops being served as soon as its tag is invalidated, and while the feed is not trusted', async () => {
    await writeL2('k', 'v', ['t']);
    await store.read('k');
    expect(l1.lookup('k')?.verified).toBe(true);
    trusted = false;
    expect(l1.lookup('k')).toBeUndefined(); // dropped: this instance may have missed invalidations
    trusted = true;
    await store.read('k');
    store.applyRemote({ k: 'tags', src: 'other', versions: await l2.bumpTags(['t'], 60_000), msg: 'm4' });
    expect(l1.lookup('k')).toBeUndefined();
  });

  it('keeps invalidations that could not reach L2, throws so the caller knows, and replays them on recovery', async () => {
    await writeL2('k', 'v', ['t']);
    jest.spyOn(l2, 'bumpTags').mockRejectedValueOnce(new Error('redis down'));
    await expect(store.invalidateTags(['t'])).rejects.toMatchObject({ code: 'CACHE.INVALIDATION_PENDING' });
    expect(store.pendingInvalidations).toBe(1);
    await store.recover();
    expect(store.pendingInvalidations).toBe(0);
    await expect(store.read('k')).resolves.toBeUndefined();
  });

  it('skips L1 and L2 for what an owed invalidation covers, and replays it on the next Redis success with the breaker still closed', async () => {
    await writeL2('k', 'v', ['t']);
    await store.read('k'); // in L1 now
    jest.spyOn(l2, 'bumpTags').mockRejectedValueOnce(new Error('redis hiccup'));
    await expect(store.invalidateTags(['t'])).rejects.toMatchObject({ code: 'CACHE.INVALIDATION_PENDING' });
    expect(store.breaker.state).toBe('closed'); // one failure: the breaker never opened, so it never "recovers"
    // L2 still holds the superseded value and L1 a copy: this instance serves neither.
    await expect(store.read('k')).resolves.toBeUndefined();
    await settle(); // that read's successful L2 call replayed the invalidation
    expect(store.pendingInvalidations).toBe(0);
    await expect(l2.get('k')).resolves.toMatchObject({ value: 'v' }); // the entry stays, but its tag is bumped
    await expect(store.read('k')).resolves.toBeUndefined();
  });

  it('skips L1 and L2 for a key whose invalidation is owed', async () => {
    await writeL2('k', 'v');
    await store.read('k');
    jest.spyOn(l2, 'invalidate').mockRejectedValueOnce(new Error('redis hiccup'));
    jest.spyOn(l2, 'get').mockRejectedValueOnce(new Error('still down')); // the next call fails too: nothing replays yet
    await expect(store.invalidate('k')).rejects.toMatchObject({ code: 'CACHE.INVALIDATION_PENDING' });
    await expect(store.read('k')).resolves.toBeUndefined();
    await expect(store.readL2('k')).resolves.toBeUndefined();
    expect(store.pendingInvalidations).toBe(1);
  });
});
