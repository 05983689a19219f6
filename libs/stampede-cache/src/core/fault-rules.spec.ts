import { Logger } from '@nestjs/common';
import { Registry } from 'prom-client';
import { deferred, ManualClock, settle } from '../testing/manual-clock';
import { CacheKey } from './cache-key';
import { CircuitBreaker } from '../redis/circuit-breaker';
import type { CacheClock } from './clock';
import { L1Cache } from '../tiers/l1/l1-cache';
import { ComputeFlight, type FlightRequest } from '../flights/compute-flight';
import { CacheMetrics } from './metrics';
import { DEFAULT_L1_OPTIONS, resolveEntryOptions } from './options';
import { NO_HOOKS, RedisGuard } from '../redis/redis-guard';
import { StampedeCache } from './stampede-cache.service';
import { MemoryStore } from '../stores/memory.store';
import { TieredStore } from '../tiers/tiered-store';

/**
 * The rules for faults, one deterministic test each (controlled promises and a manual
 * clock, no sleeps): a timed-out lock attempt is not acquired, a stall is not a timeout,
 * lock-less computing needs Redis known down, leases survive one failed renewal.
 */
describe('Fault rules: an unknown outcome is never a success', () => {
  const logger = new Logger('test');
  let clock: ManualClock;
  let shared: MemoryStore;

  beforeEach(() => {
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    clock = new ManualClock();
    shared = new MemoryStore({}, clock); // the one "Redis" both instances use
  });
  afterEach(() => jest.restoreAllMocks());

  /** One cache instance's store and flight over the shared L2. */
  function instance(threshold = 5, own: CacheClock = clock) {
    const breaker = new CircuitBreaker(threshold, 5_000, undefined, own);
    const store = new TieredStore(shared, undefined, new RedisGuard(breaker, 500, 5_000, own, NO_HOOKS), own, lifetimes(), 100, logger);
    const flight = new ComputeFlight(store, new CacheMetrics(new Registry()), () => 0.5, own, logger);
    return { store, flight, breaker };
  }
  const lifetimes = () => ({ fenceTtlMs: 60_000, tagTtlMs: 60_000 });
  const request = (factory: () => Promise<string>, overrides: Partial<FlightRequest<string>> = {}): FlightRequest<string> => ({
    key: CacheKey.from('k'),
    factory,
    options: resolveEntryOptions(resolveEntryOptions({}), { ttl: 60_000, lockTtl: 3_000 }),
    label: 'test',
    ...overrides,
  });

  it('two instances, the second stalls 700 ms right after sending its lock command: one computation', async () => {
    const a = instance();
    const b = instance();
    const gate = deferred<string>();
    let runs = 0;
    const factory = () => ((runs += 1), gate.promise);
    const first = a.flight.run(request(factory));
    await settle();
    // B's lock reply ("held by A") is in its socket while its event loop is blocked.
    const original = shared.tryLock.bind(shared);
    const reply = deferred<void>();
    jest.spyOn(shared, 'tryLock').mockImplementationOnce(async (...args) => {
      const attempt = await original(...args);
      await reply.promise;
      return attempt;
    });
    const second = b.flight.run(request(factory));
    await settle();
    clock.stall(700);
    clock.fireDue(); // B's 500 ms guard fires 200 ms late ...
    reply.resolve(); // ... and the reply is read right after it
    await settle();
    gate.resolve('v');
    await expect(first).resolves.toMatchObject({ entry: { value: 'v' } });
    await clock.advance(3_100); // B has no feed here: it re-checks when A's lease would have run out
    await expect(second).resolves.toMatchObject({ entry: { value: 'v' } });
    expect(runs).toBe(1);
  });

  it('a lock attempt with no reply is not acquired, and is released by token in case it was set', async () => {
    const { store } = instance();
    jest.spyOn(shared, 'tryLock').mockImplementationOnce(() => new Promise(() => undefined));
    const unlock = jest.spyOn(shared, 'unlock');
    const attempt = store.locks.tryLock('k', 'token-1', 3_000);
    await clock.advance(500);
    await expect(attempt).resolves.toMatchObject({ acquired: false });
    expect(unlock).toHaveBeenCalledWith('k', 'token-1');
  });

  it('computes without the lock only when Redis was known unreachable before the call, and once per key per instance', async () => {
    const { store, breaker } = instance(1);
    jest.spyOn(shared, 'get').mockRejectedValueOnce(new Error('ECONNREFUSED'));
    await store.readL2('other'); // one failure opens the breaker (threshold 1)
    expect(breaker.state).toBe('open');
    const tryLock = jest.spyOn(shared, 'tryLock');
    await expect(store.locks.tryLock('k', 't1', 3_000)).resolves.toEqual({ acquired: true, fence: 0 });
    await expect(store.locks.tryLock('k', 't2', 3_000)).resolves.toMatchObject({ acquired: false });
    await expect(store.locks.tryLock('j', 't3', 3_000)).resolves.toEqual({ acquired: true, fence: 0 });
    expect(tryLock).not.toHaveBeenCalled();
    await store.locks.unlock('k', 't1');
    await expect(store.locks.tryLock('k', 't2', 3_000)).resolves.toEqual({ acquired: true, fence: 0 });
  });

  it('keeps renewing the lease after one renewal without an answer', async () => {
    const { flight } = instance();
    const gate = deferred<string>();
    const renew = jest.spyOn(shared, 'renewLock');
    renew.mockImplementationOnce(() => Promise.reject(new Error('timeout')));
    const run = flight.run(request(() => gate.promise));
    await clock.advance(1_000); // first renewal fails
    await clock.advance(1_000); // the lease is renewed again all the same
    await clock.advance(1_000);
    expect(renew.mock.calls.length).toBeGreaterThanOrEqual(3);
    await expect(shared.tryLock('k', 'other', 3_000, 60_000)).resolves.toMatchObject({ acquired: false });
    gate.resolve('v');
    await run;
  });

  it('a tag invalidation makes the holder give up the lock, so another instance computes at once', async () => {
    const a = instance();
    const b = instance();
    const slow = deferred<string>();
    const held = a.flight.run(request(() => slow.promise, { tags: ['t'] }));
    await settle();
    await expect(shared.tryLock('k', 'probe', 3_000, 60_000)).resolves.toMatchObject({ acquired: false });
    await a.store.invalidateTags(['t']).catch(() => undefined);
    await settle();
    await expect(b.flight.run(request(async () => 'fresh', { tags: ['t'] }))).resolves.toMatchObject({ entry: { value: 'fresh' } });
    slow.resolve('old');
    await held;
    await expect(b.store.readL2('k')).resolves.toMatchObject({ value: 'fresh' }); // the superseded write was fenced out
  });

  it('a written message records a floor: a slower L2 read of an older value does not come back into L1', async () => {
    const l1 = new L1Cache(DEFAULT_L1_OPTIONS, () => true);
    const old = { value: 'old', computedAt: 0, expiresAt: 9e15, staleUntil: 9e15, delta: 1, fence: 5 };
    l1.applyWritten('k', 7);
    expect(l1.offer('k', old, 10, l1.mark())).toBe(false);
    expect(l1.offer('k', { ...old, value: 'new', fence: 7 }, 10, l1.mark())).toBe(true);
  });

  it('read-your-writes compares fences, not wall clocks: an instance whose clock runs 60 s ahead cannot pass off an older value', async () => {
    const ahead: CacheClock = {
      now: () => clock.now() + 60_000,
      monotonic: () => clock.now(),
      setTimer: (fn, ms) => clock.setTimer(fn, ms),
    };
    const b = instance(5, ahead);
    const a = instance();
    await b.flight.run(request(async () => 'old'));
    await clock.advance(10);
    const minComputedAt = clock.now(); // "computed after my write", on A's clock
    const minFence = await a.store.locks.fenceSince('k', minComputedAt, clock.now());
    const read = await a.flight.run(request(async () => 'new', { minComputedAt, minFence }));
    expect(read.entry.value).toBe('new'); // B's computedAt (its clock) is "later", but its fence is older
  });

  it('writes with per-call lifetimes: a computation longer than the default fence lifetime is still cached', async () => {
    const { store, flight } = instance();
    const tryLock = jest.spyOn(shared, 'tryLock');
    await flight.run(request(async () => 'v', { options: resolveEntryOptions(resolveEntryOptions({}), { hardTimeout: 120_000 }) }));
    expect(tryLock.mock.calls[0][3]).toBeGreaterThan(120_000);
    await expect(store.readL2('k')).resolves.toMatchObject({ value: 'v' });
  });
});

describe('Fault rules at the cache API', () => {
  let cache: StampedeCache;
  let clock: ManualClock;

  beforeEach(async () => {
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    clock = new ManualClock();
    cache = await StampedeCache.create({ random: () => 1, clock });
  });
  afterEach(async () => {
    await cache.close();
    jest.restoreAllMocks();
  });

  it('labels a failed forceRefresh of a fresh value STALE, not MISS', async () => {
    await cache.getOrCompute('k', async () => 'old');
    const failed = cache.getOrComputeWithStatus('k', () => Promise.reject(new Error('origin down')), { forceRefresh: true });
    await expect(failed).resolves.toMatchObject({ value: 'old', status: 'STALE' });
  });

  it('N concurrent read-your-writes readers cost at most two computations, one after the other', async () => {
    const gates = [deferred<string>(), deferred<string>(), deferred<string>()];
    let runs = 0;
    let running = 0;
    let overlap = 0;
    const factory = async () => {
      const gate = gates[runs];
      runs += 1;
      running += 1;
      overlap = Math.max(overlap, running);
      try {
        return await gate.promise;
      } finally {
        running -= 1;
      }
    };
    const first = cache.getOrComputeWithStatus('k', factory);
    await settle();
    await clock.advance(1);
    const readers = Array.from({ length: 20 }, () => cache.getOrComputeWithStatus('k', factory, { minComputedAt: clock.now() }));
    await settle();
    gates[0].resolve('v1');
    await settle();
    gates[1].resolve('v2');
    const results = await Promise.all(readers);
    expect((await first).value).toBe('v1');
    expect(results.every((result) => result.value === 'v2')).toBe(true);
    expect(runs).toBe(2);
    expect(overlap).toBe(1);
  });

  it('a tag invalidation supersedes the computation in flight: the next reader does not wait for it', async () => {
    const slow = deferred<string>();
    const stale = cache.getOrCompute('k', () => slow.promise, { tags: ['t'] });
    await settle();
    await cache.invalidateTags(['t']);
    // Not joined (superseded) and not queued behind it: computed at once.
    await expect(cache.getOrCompute('k', async () => 'fresh', { tags: ['t'] })).resolves.toBe('fresh');
    slow.resolve('old');
    await expect(stale).resolves.toBe('old'); // its own caller began before the invalidation
    await expect(cache.getOrCompute('k', async () => 'not me', { tags: ['t'] })).resolves.toBe('fresh');
  });

  it('invalidates everything with "*" although no tag is stamped on every entry (no hot tag key)', async () => {
    await cache.getOrCompute('a', async () => 'a1', { tags: ['t'] });
    await cache.getOrCompute('b', async () => 'b1');
    await cache.invalidateTags(['*']);
    await expect(cache.getOrCompute('a', async () => 'a2', { tags: ['t'] })).resolves.toBe('a2');
    await expect(cache.getOrCompute('b', async () => 'b2')).resolves.toBe('b2');
  });

  it('serves a value JSON cannot represent to its callers without caching it', async () => {
    const cyclic: { self?: unknown } = {};
    cyclic.self = cyclic;
    let runs = 0;
    const factory = async () => ((runs += 1), cyclic);
    await expect(cache.getOrCompute('k', factory)).resolves.toBe(cyclic);
    await expect(cache.getOrCompute('k', factory)).resolves.toBe(cyclic);
    expect(runs).toBe(2);
  });

  it('hands out values that callers cannot change, of one type whichever level answers', async () => {
    const computed = await cache.getOrCompute('k', async () => ({ at: new Date(0), list: [1] }));
    const hit = await cache.getOrCompute('k', async () => ({ at: new Date(1), list: [2] }));
    expect(computed).toEqual({ at: '1970-01-01T00:00:00.000Z', list: [1] }); // what Redis would give back
    expect(hit).toEqual(computed);
    expect(() => hit.list.push(3)).toThrow(TypeError);
    await expect(cache.getOrCompute('k', async () => ({ at: new Date(2), list: [] }))).resolves.toEqual(computed);
  });
});
