import { Logger } from '@nestjs/common';
import { Registry } from 'prom-client';
import { deferred, ManualClock, settle } from '../testing/manual-clock';
import { CacheKey } from '../core/cache-key';
import { CircuitBreaker } from '../redis/circuit-breaker';
import { ComputeFlight, type FlightRequest } from './compute-flight';
import { CacheMetrics } from '../core/metrics';
import { resolveEntryOptions } from '../core/options';
import { NO_HOOKS, RedisGuard } from '../redis/redis-guard';
import { MemoryStore } from '../stores/memory.store';
import { TieredStore } from '../tiers/tiered-store';

/**
 * What an early refresh is measured by and when it is skipped (issue 18, point 4): XFetch's
 * delta is the factory's own run time (not a lock wait, tag stamping or queueing before it),
 * and a refresh another instance already wrote is seen after taking the lock, before computing.
 * Two instances over one shared store, a manual clock and deferred promises: no sleeps.
 */
describe('Refresh accounting: delta and refreshes already done', () => {
  const logger = new Logger('test');
  let clock: ManualClock;
  let shared: MemoryStore;

  beforeEach(() => {
    clock = new ManualClock();
    shared = new MemoryStore({}, clock); // the one "Redis" both instances use
  });
  afterEach(() => jest.restoreAllMocks());

  function instance() {
    const breaker = new CircuitBreaker(5, 5_000, undefined, clock);
    const lifetimes = { fenceTtlMs: 60_000, tagTtlMs: 60_000 };
    const store = new TieredStore(shared, undefined, new RedisGuard(breaker, 500, 5_000, clock, NO_HOOKS), clock, lifetimes, 100, logger);
    return { store, flight: new ComputeFlight(store, new CacheMetrics(new Registry()), () => 1, clock, logger) };
  }
  const request = (factory: () => Promise<string>, overrides: Partial<FlightRequest<string>> = {}): FlightRequest<string> => ({
    key: CacheKey.from('k'),
    factory,
    options: resolveEntryOptions(resolveEntryOptions({}), { ttl: 60_000, lockTtl: 3_000 }),
    label: 'test',
    ...overrides,
  });
  /** A factory that takes `ms` of the clock. */
  const taking = (ms: number, value: string) => async () => (await clock.advance(ms), value);

  it('delta is the factory time only: not the wait for the lock another instance held', async () => {
    const { flight } = instance();
    await shared.tryLock('k', 'a-process-that-died', 3_000, 60_000); // its lease runs out in 3 s
    const waiter = flight.run(request(taking(20, 'b'))); // no previous value: it waits, then takes the lock
    await clock.advance(3_100);
    await expect(waiter).resolves.toMatchObject({ entry: { value: 'b', delta: 20 } });
  });

  it('delta is the factory time only: not the tag stamping before it, nor a slow write after it', async () => {
    const { flight } = instance();
    const stamp = deferred<void>();
    const tagVersions = shared.tagVersions.bind(shared);
    jest.spyOn(shared, 'tagVersions').mockImplementationOnce(async (...args) => (await stamp.promise, tagVersions(...args)));
    const write = shared.write.bind(shared);
    jest.spyOn(shared, 'write').mockImplementationOnce(async (...args) => (await clock.advance(300), write(...args)));
    const run = flight.run(request(taking(20, 'v'), { tags: ['t'] }));
    await clock.advance(500); // stamping the tags takes 500 ms (a slow Redis)
    stamp.resolve();
    await expect(run).resolves.toMatchObject({ entry: { value: 'v', delta: 20 } });
  });

  it('delta is smoothed from the previous value’s, by the new factory time only', async () => {
    const { flight } = instance();
    const first = await flight.run(request(taking(100, 'v1')));
    await clock.advance(5_000);
    const second = await flight.run(request(taking(200, 'v2'), { previous: first.entry }));
    expect(second.entry.delta).toBeCloseTo(100 + 0.3 * (200 - 100));
  });

  it('a refresh another instance already wrote is seen after the lock, before computing: no second factory run', async () => {
    const a = instance();
    const b = instance();
    const old = await a.flight.run(request(taking(10, 'v1')));
    await clock.advance(50_000); // near expiry: both instances decide to refresh early, A first
    const gate = deferred<string>();
    let bRuns = 0;
    const refreshA = a.flight.run(request(() => gate.promise, { previous: old.entry }));
    await settle();
    // B decides while A holds the lock: it keeps serving its (still fresh) value, computes nothing.
    await expect(b.flight.run(request(async () => ((bRuns += 1), 'b'), { previous: old.entry }))).resolves.toMatchObject({
      entry: { value: 'v1' },
    });
    gate.resolve('v2');
    await refreshA;
    // B still holds the old entry (the written message has not reached it) and decides again: the lock is
    // free now, and the re-read after it finds A's newer value.
    await expect(b.flight.run(request(async () => ((bRuns += 1), 'b'), { previous: old.entry }))).resolves.toMatchObject({
      entry: { value: 'v2' },
      fromStale: false,
    });
    expect(bRuns).toBe(0);
  });
});
