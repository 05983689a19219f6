import { Logger } from '@nestjs/common';
import { metricValue } from '../test/metric-value';
import { StampedeCache } from './stampede-cache.service';
import { sleep } from './timing';

/** L1-only mode (no Redis): the policy layer on top of the in-process MemoryStore. */
describe('StampedeCache (in-process)', () => {
  let cache: StampedeCache;
  let draw: number;
  const slowValue = (value: string, ms = 30, runs = { count: 0 }) => async () => {
    runs.count += 1;
    await sleep(ms);
    return value;
  };

  beforeEach(async () => {
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    draw = 1; // -ln(1) = 0: no early refresh unless a test lowers the draw
    cache = await StampedeCache.create({ random: () => draw });
  });
  afterEach(async () => {
    await cache.close();
    jest.restoreAllMocks();
  });

  it('warns at start-up that it runs in-process only, and reports no circuit', () => {
    expect(Logger.prototype.warn).toHaveBeenCalledWith(expect.stringContaining('in-process only'));
    expect(cache.circuitState).toBe('disabled');
  });

  it('runs the factory once for concurrent callers of one key (in-process single flight)', async () => {
    const runs = { count: 0 };
    const results = await Promise.all(Array.from({ length: 200 }, () => cache.getOrComputeWithStatus('k', slowValue('v', 30, runs))));
    expect(runs.count).toBe(1);
    expect(new Set(results.map((result) => result.value))).toEqual(new Set(['v']));
    expect(results.every((result) => result.status === 'MISS')).toBe(true);
    await expect(cache.getOrComputeWithStatus('k', slowValue('other', 0, runs))).resolves.toMatchObject({ value: 'v', status: 'HIT' });
    expect(runs.count).toBe(1);
    expect(await metricValue(cache.registry, 'cache_factory_runs_total', { cache: 'default' })).toBe(1);
    expect(await metricValue(cache.registry, 'cache_requests_total', { result: 'miss' })).toBe(200);
    expect(await metricValue(cache.registry, 'cache_requests_total', { result: 'hit' })).toBe(1);
  });

  it('keeps different keys apart', async () => {
    const [a, b] = await Promise.all([cache.getOrCompute(cache.buildKey('user', { id: 1 }), slowValue('a')), cache.getOrCompute(cache.buildKey('user', { id: 2 }), slowValue('b'))]);
    expect([a, b]).toEqual(['a', 'b']);
  });

  it('serves a stale value at once while one caller refreshes it', async () => {
    await cache.getOrCompute('k', slowValue('old', 0), { ttl: 20 });
    await sleep(30);
    const refresh = cache.getOrComputeWithStatus('k', slowValue('new', 150), { ttl: 1_000 });
    const startedAt = Date.now();
    const meanwhile = await cache.getOrComputeWithStatus('k', slowValue('unused', 0));
    expect(meanwhile).toMatchObject({ value: 'old', status: 'STALE' });
    expect(Date.now() - startedAt).toBeLessThan(50);
    await expect(refresh).resolves.toMatchObject({ value: 'new', status: 'MISS' });
    await expect(cache.getOrComputeWithStatus('k', slowValue('unused', 0))).resolves.toMatchObject({ value: 'new', status: 'HIT' });
  });

  it('refreshes early in the background when XFetch says so, without making the reader wait', async () => {
    const runs = { count: 0 };
    await cache.getOrCompute('k', slowValue('v1', 20, runs), { ttl: 60_000 });
    draw = 0.5; // lead = -delta * beta * ln(0.5): with beta 1e6 far beyond the 60 s ttl
    const startedAt = Date.now();
    const early = await cache.getOrComputeWithStatus('k', slowValue('v2', 100, runs), { beta: 1e6 });
    draw = 1;
    expect(Date.now() - startedAt).toBeLessThan(50);
    expect(early).toMatchObject({ value: 'v1', status: 'HIT' });
    expect(await metricValue(cache.registry, 'cache_requests_total', { result: 'early_refresh' })).toBe(1);
    await sleep(150);
    await expect(cache.getOrCompute('k', slowValue('v3', 0, runs))).resolves.toBe('v2');
    expect(runs.count).toBe(2);
  });

  it('recomputes on forceRefresh and when the value is older than minComputedAt', async () => {
    await cache.getOrCompute('k', slowValue('v1', 0));
    await expect(cache.getOrComputeWithStatus('k', slowValue('v2', 0), { forceRefresh: true })).resolves.toMatchObject({ value: 'v2', status: 'MISS' });
    await expect(cache.getOrCompute('k', slowValue('v3', 0), { minComputedAt: Date.now() - 60_000 })).resolves.toBe('v2');
    await sleep(2);
    await expect(cache.getOrCompute('k', slowValue('v4', 0), { minComputedAt: Date.now() })).resolves.toBe('v4');
  });

  it('invalidates a key and tagged entries', async () => {
    await cache.getOrCompute('a', slowValue('a1', 0), { tags: ['users'] });
    await cache.getOrCompute('b', slowValue('b1', 0), { tags: (value) => [`item:${value}`] });
    await cache.getOrCompute('c', slowValue('c1', 0));
    await cache.invalidateTags(['users', 'item:b1']);
    await cache.invalidate('c');
    await expect(cache.getOrCompute('a', slowValue('a2', 0))).resolves.toBe('a2');
    await expect(cache.getOrCompute('b', slowValue('b2', 0))).resolves.toBe('b2');
    await expect(cache.getOrCompute('c', slowValue('c2', 0))).resolves.toBe('c2');
  });

  it('registers the metrics under their documented names in the given registry', async () => {
    const names = (await cache.registry.getMetricsAsJSON()).map((metric) => metric.name).sort();
    expect(names).toEqual(['cache_factory_duration_seconds', 'cache_factory_errors_total', 'cache_factory_runs_total', 'cache_lock_waits_total', 'cache_requests_total']);
  });
});
