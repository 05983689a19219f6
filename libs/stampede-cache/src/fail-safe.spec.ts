import { Logger } from '@nestjs/common';
import { metricValue } from '../test/metric-value';
import { CacheFactoryFailedError, CacheFactoryTimeoutError } from './errors';
import { StampedeCache } from './stampede-cache.service';
import { sleep } from './timing';

/** Fail-safe and timeouts, in L1-only mode so the tests need no Redis. */
describe('StampedeCache fail-safe and timeouts', () => {
  let cache: StampedeCache;
  const failing = (runs = { count: 0 }) => async (): Promise<string> => {
    runs.count += 1;
    throw new Error('origin down');
  };

  beforeEach(async () => {
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    cache = await StampedeCache.create({ random: () => 1, defaults: { staleTtl: 10_000, failSafeBackoff: 100 } });
  });
  afterEach(async () => {
    await cache.close();
    jest.restoreAllMocks();
  });

  async function seedExpired(value: string): Promise<void> {
    await cache.getOrCompute('k', async () => value, { ttl: 10 });
    await sleep(20);
  }

  it('serves the stale value when the factory throws, then backs off before retrying', async () => {
    await seedExpired('old');
    const runs = { count: 0 };
    await expect(cache.getOrComputeWithStatus('k', failing(runs))).resolves.toMatchObject({ value: 'old', status: 'STALE' });
    // Within the backoff nobody calls the failing origin again.
    await expect(cache.getOrComputeWithStatus('k', failing(runs))).resolves.toMatchObject({ value: 'old', status: 'STALE' });
    expect(runs.count).toBe(1);
    await sleep(120);
    await expect(cache.getOrComputeWithStatus('k', failing(runs))).resolves.toMatchObject({ value: 'old', status: 'STALE' });
    expect(runs.count).toBe(2);
    expect(await metricValue(cache.registry, 'cache_factory_errors_total', { cache: 'default' })).toBe(2);
    await sleep(120);
    await expect(cache.getOrComputeWithStatus('k', async () => 'recovered')).resolves.toMatchObject({ value: 'recovered', status: 'MISS' });
  });

  it('throws a typed error with the cause when the factory throws and nothing stale exists', async () => {
    const error = await cache.getOrCompute('k', failing()).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CacheFactoryFailedError);
    expect(error).toMatchObject({ code: 'CACHE.FACTORY_FAILED', key: 'k' });
    expect((error as Error).cause).toEqual(new Error('origin down'));
  });

  it('serves stale after softTimeout while the refresh finishes in the background', async () => {
    await seedExpired('old');
    const startedAt = Date.now();
    const result = await cache.getOrComputeWithStatus('k', async () => (await sleep(200), 'new'), { softTimeout: 30 });
    expect(result).toMatchObject({ value: 'old', status: 'STALE' });
    expect(Date.now() - startedAt).toBeLessThan(150);
    await sleep(250);
    await expect(cache.getOrComputeWithStatus('k', async () => 'unused')).resolves.toMatchObject({ value: 'new', status: 'HIT' });
  });

  it('waits for the factory past softTimeout when there is nothing stale', async () => {
    await expect(cache.getOrComputeWithStatus('k', async () => (await sleep(80), 'v'), { softTimeout: 10 })).resolves.toMatchObject({ value: 'v', status: 'MISS' });
  });

  it('bounds every call by hardTimeout and aborts the factory signal', async () => {
    let signal: AbortSignal | undefined;
    const hanging = (context: { signal: AbortSignal }) => {
      signal = context.signal;
      return new Promise<string>(() => undefined);
    };
    const startedAt = Date.now();
    const error = await cache.getOrCompute('k', hanging, { hardTimeout: 80 }).catch((caught: unknown) => caught);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(75);
    expect(Date.now() - startedAt).toBeLessThan(300);
    expect(error).toBeInstanceOf(CacheFactoryTimeoutError);
    expect(error).toMatchObject({ code: 'CACHE.FACTORY_TIMEOUT', timeoutMs: 80 });
    await sleep(20); // the factory's own deadline started a moment after the caller's
    expect(signal?.aborted).toBe(true);
  });

  it('serves stale when the hard timeout hits and a stale value exists', async () => {
    await seedExpired('old');
    await expect(cache.getOrComputeWithStatus('k', () => new Promise<string>(() => undefined), { hardTimeout: 50 })).resolves.toMatchObject({ value: 'old', status: 'STALE' });
    await sleep(20);
    expect(await metricValue(cache.registry, 'cache_factory_errors_total', { cache: 'default' })).toBe(1);
  });

  it('gives up on stale values past staleTtl', async () => {
    await cache.getOrCompute('k', async () => 'old', { ttl: 10, staleTtl: 10 });
    await sleep(30);
    await expect(cache.getOrCompute('k', failing())).rejects.toMatchObject({ code: 'CACHE.FACTORY_FAILED' });
  });

  it('rejects inconsistent options with a typed error', async () => {
    await expect(cache.getOrCompute('k', async () => 1, { ttl: -1 })).rejects.toMatchObject({ code: 'CACHE.INVALID_OPTIONS' });
    expect(() => new StampedeCache({ namespace: 'a{b}' })).toThrow(expect.objectContaining({ code: 'CACHE.INVALID_OPTIONS' }));
  });
});
