import { Logger } from '@nestjs/common';
import { deferred, ManualClock, settle } from '../testing/manual-clock';
import { metricValue } from '../testing/metric-value';
import { StampedeCache } from './stampede-cache.service';

/** L1-only mode (no Redis): the policy layer on the in-process store, on a clock the test moves. */
describe('StampedeCache (in-process)', () => {
  let cache: StampedeCache;
  let clock: ManualClock;
  let draw: number;
  let warn: jest.SpyInstance;
  const value =
    (v: string, runs = { count: 0 }) =>
    async () => {
      runs.count += 1;
      return v;
    };

  beforeEach(async () => {
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    draw = 1; // -ln(1) = 0: no early refresh unless a test lowers the draw
    clock = new ManualClock();
    cache = await StampedeCache.create({ random: () => draw, clock });
  });
  afterEach(async () => {
    await cache.close();
    jest.restoreAllMocks();
  });

  it('warns at start-up that it runs in-process only, and reports no circuit', () => {
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('in-process only'));
    expect(cache.circuitState).toBe('disabled');
  });

  it('runs the factory once for concurrent callers of one key (in-process single flight)', async () => {
    const gate = deferred<string>();
    let runs = 0;
    const calls = Array.from({ length: 200 }, () => cache.getOrComputeWithStatus('k', () => ((runs += 1), gate.promise)));
    await settle();
    gate.resolve('v');
    const results = await Promise.all(calls);
    expect(runs).toBe(1);
    expect(results.every((result) => result.value === 'v' && result.status === 'MISS')).toBe(true);
    await expect(cache.getOrComputeWithStatus('k', value('other'))).resolves.toMatchObject({ value: 'v', status: 'HIT' });
    expect(await metricValue(cache.registry, 'cache_factory_runs_total', { cache: 'default' })).toBe(1);
    expect(await metricValue(cache.registry, 'cache_requests_total', { result: 'miss' })).toBe(200);
    expect(await metricValue(cache.registry, 'cache_requests_total', { result: 'hit' })).toBe(1);
  });

  it('keeps different keys apart', async () => {
    const [a, b] = await Promise.all([
      cache.getOrCompute(cache.buildKey('user', { id: 1 }), value('a')),
      cache.getOrCompute(cache.buildKey('user', { id: 2 }), value('b')),
    ]);
    expect([a, b]).toEqual(['a', 'b']);
  });

  it('serves a stale value at once while one caller refreshes it', async () => {
    await cache.getOrCompute('k', value('old'), { ttl: 20 });
    await clock.advance(30);
    const gate = deferred<string>();
    const refresh = cache.getOrComputeWithStatus('k', () => gate.promise, { ttl: 1_000 });
    await settle();
    await expect(cache.getOrComputeWithStatus('k', value('unused'))).resolves.toMatchObject({ value: 'old', status: 'STALE' });
    gate.resolve('new');
    await expect(refresh).resolves.toMatchObject({ value: 'new', status: 'MISS' });
    await expect(cache.getOrComputeWithStatus('k', value('unused'))).resolves.toMatchObject({ value: 'new', status: 'HIT' });
  });

  it('refreshes early in the background when XFetch says so, without making the reader wait', async () => {
    const runs = { count: 0 };
    // The seed takes 20 ms of the clock, so delta = 20 ms.
    await cache.getOrCompute('k', async () => ((runs.count += 1), await clock.advance(20), 'v1'), { ttl: 60_000 });
    draw = 0.5; // lead = -20 ms * 1e6 * ln(0.5): far beyond the 60 s ttl
    const gate = deferred<string>();
    const early = await cache.getOrComputeWithStatus('k', () => ((runs.count += 1), gate.promise), { beta: 1e6 });
    draw = 1;
    expect(early).toMatchObject({ value: 'v1', status: 'HIT' });
    expect(await metricValue(cache.registry, 'cache_requests_total', { result: 'early_refresh' })).toBe(1);
    await expect(cache.getOrCompute('k', value('unused', runs))).resolves.toBe('v1'); // the refresh is still running
    gate.resolve('v2');
    await settle();
    await expect(cache.getOrCompute('k', value('unused', runs))).resolves.toBe('v2');
    expect(runs.count).toBe(2);
  });

  it('recomputes on forceRefresh and when the value is older than minComputedAt', async () => {
    await cache.getOrCompute('k', value('v1'));
    await expect(cache.getOrComputeWithStatus('k', value('v2'), { forceRefresh: true })).resolves.toMatchObject({
      value: 'v2',
      status: 'MISS',
    });
    await expect(cache.getOrCompute('k', value('v3'), { minComputedAt: clock.now() - 60_000 })).resolves.toBe('v2');
    await clock.advance(2);
    await expect(cache.getOrCompute('k', value('v4'), { minComputedAt: clock.now() })).resolves.toBe('v4');
  });

  it('invalidates a key and tagged entries', async () => {
    await cache.getOrCompute('a', value('a1'), { tags: ['users'] });
    await cache.getOrCompute('b', value('b1'), { tags: (v) => [`item:${v}`] });
    await cache.getOrCompute('c', value('c1'));
    await cache.invalidateTags(['users', 'item:b1']);
    await cache.invalidate('c');
    await expect(cache.getOrCompute('a', value('a2'))).resolves.toBe('a2');
    await expect(cache.getOrCompute('b', value('b2'))).resolves.toBe('b2');
    await expect(cache.getOrCompute('c', value('c2'))).resolves.toBe('c2');
  });

  it.each([
    ['invalidate(key)', (c: StampedeCache) => c.invalidate('k')],
    ['invalidateTags', (c: StampedeCache) => c.invalidateTags(['t'])],
  ])(
    '%s supersedes a computation already in flight: its value is never cached, later readers do not join it',
    async (_name, invalidate) => {
      const slow = deferred<string>();
      const before = cache.getOrComputeWithStatus('k', () => slow.promise, { tags: ['t'] });
      await settle();
      await invalidate(cache);
      const after = cache.getOrComputeWithStatus('k', value('fresh'), { tags: ['t'] });
      await settle();
      slow.resolve('computed before the invalidation');
      await expect(after).resolves.toMatchObject({ value: 'fresh', status: 'MISS' }); // did not join the older computation
      await expect(before).resolves.toMatchObject({ value: 'computed before the invalidation' }); // its own caller began before
      await expect(cache.getOrComputeWithStatus('k', value('unused'), { tags: ['t'] })).resolves.toMatchObject({
        value: 'fresh',
        status: 'HIT',
      });
    },
  );

  it('does not cache a value whose tags (known only from the value) changed while it was computed', async () => {
    const slow = deferred<string>();
    const first = cache.getOrCompute('k', () => slow.promise, { tags: (v) => [`item:${v}`] });
    await settle();
    await cache.invalidateTags(['item:x']);
    slow.resolve('x');
    await expect(first).resolves.toBe('x');
    await expect(cache.getOrComputeWithStatus('k', value('y'), { tags: (v) => [`item:${v}`] })).resolves.toMatchObject({
      value: 'y',
      status: 'MISS',
    });
  });

  it('caches negative results for negativeTtl only, and never serves them stale', async () => {
    const runs = { count: 0 };
    const missing = async () => ((runs.count += 1), null);
    const options = { isNegative: (v: unknown) => v === null, negativeTtl: 5_000, ttl: 60_000 };
    await cache.getOrCompute('ghost', missing, options);
    await clock.advance(4_000);
    await expect(cache.getOrComputeWithStatus('ghost', missing, options)).resolves.toMatchObject({ status: 'HIT' });
    await clock.advance(1_500);
    await expect(cache.getOrComputeWithStatus('ghost', missing, options)).resolves.toMatchObject({ value: null, status: 'MISS' });
    expect(runs.count).toBe(2);
    expect(cache.usage.negativeEntries).toBe(1);
  });

  it('registers the metrics under their documented names in the given registry', async () => {
    const names = (await cache.registry.getMetricsAsJSON()).map((metric) => metric.name).sort();
    expect(names).toEqual([
      'cache_event_loop_lag_seconds',
      'cache_factory_duration_seconds',
      'cache_factory_errors_total',
      'cache_factory_runs_total',
      'cache_lock_waits_total',
      'cache_redis_timeouts_total',
      'cache_requests_total',
    ]);
  });
});
