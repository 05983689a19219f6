import { Logger } from '@nestjs/common';
import { deferred, ManualClock, settle } from '../testing/manual-clock';
import { metricValue } from '../testing/metric-value';
import { CacheFactoryFailedError, CacheFactoryTimeoutError } from './errors';
import { StampedeCache } from './stampede-cache.service';

/** Fail-safe and timeouts, in L1-only mode on a clock the test moves. */
describe('StampedeCache fail-safe and timeouts', () => {
  let cache: StampedeCache;
  let clock: ManualClock;
  const failing =
    (runs = { count: 0 }) =>
    async (): Promise<string> => {
      runs.count += 1;
      throw new Error('origin down');
    };

  beforeEach(async () => {
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    clock = new ManualClock();
    cache = await StampedeCache.create({ random: () => 1, clock, defaults: { staleTtl: 10_000, failSafeBackoff: 100 } });
  });
  afterEach(async () => {
    await cache.close();
    jest.restoreAllMocks();
  });

  async function seedExpired(value: string): Promise<void> {
    await cache.getOrCompute('k', async () => value, { ttl: 10 });
    await clock.advance(20);
  }

  it('serves the stale value when the factory throws, then backs off before retrying', async () => {
    await seedExpired('old');
    const runs = { count: 0 };
    await expect(cache.getOrComputeWithStatus('k', failing(runs))).resolves.toMatchObject({ value: 'old', status: 'STALE' });
    // Within the backoff nobody calls the failing origin again.
    await clock.advance(99);
    await expect(cache.getOrComputeWithStatus('k', failing(runs))).resolves.toMatchObject({ value: 'old', status: 'STALE' });
    expect(runs.count).toBe(1);
    await clock.advance(1);
    await expect(cache.getOrComputeWithStatus('k', failing(runs))).resolves.toMatchObject({ value: 'old', status: 'STALE' });
    expect(runs.count).toBe(2);
    expect(await metricValue(cache.registry, 'cache_factory_errors_total', { cache: 'default' })).toBe(2);
    await clock.advance(100);
    await expect(cache.getOrComputeWithStatus('k', async () => 'recovered')).resolves.toMatchObject({ value: 'recovered', status: 'MISS' });
  });

  it('keeps a fresh value fresh until its own expiry when an early refresh fails, and pauses early refreshes for the backoff', async () => {
    // The seed takes 50 ms, so delta = 50 ms; with draw 0.5 and beta 1e4 every read refreshes early.
    let draw = 1;
    await cache.close();
    cache = await StampedeCache.create({ random: () => draw, clock, defaults: { staleTtl: 10_000, failSafeBackoff: 100 } });
    await cache.getOrCompute('k', async () => (await clock.advance(50), 'fresh'), { ttl: 60_000 });
    const expiry = (await cache.getOrComputeWithStatus('k', failing())).expiresAt;
    draw = 0.5;
    const runs = { count: 0 };
    await expect(cache.getOrComputeWithStatus('k', failing(runs), { beta: 1e4 })).resolves.toMatchObject({ value: 'fresh', status: 'HIT' });
    await settle();
    expect(runs.count).toBe(1); // the early refresh ran and failed
    await expect(cache.getOrComputeWithStatus('k', failing(runs), { beta: 1e4 })).resolves.toMatchObject({
      value: 'fresh',
      status: 'HIT',
      expiresAt: expiry,
    });
    await settle();
    expect(runs.count).toBe(1); // no second early refresh within the backoff
    await clock.advance(100);
    await cache.getOrComputeWithStatus('k', failing(runs), { beta: 1e4 });
    await settle();
    expect(runs.count).toBe(2);
  });

  it('never writes back a value that an invalidation superseded while its refresh was failing', async () => {
    await seedExpired('old');
    const refresh = deferred<string>();
    const failingLater = cache.getOrComputeWithStatus('k', () => refresh.promise);
    await settle();
    await cache.invalidate('k');
    refresh.reject(new Error('origin down'));
    await expect(failingLater).resolves.toMatchObject({ value: 'old', status: 'STALE' }); // its caller began before the invalidation
    await expect(cache.getOrComputeWithStatus('k', async () => 'new')).resolves.toMatchObject({ value: 'new', status: 'MISS' });
  });

  it('throws a typed error with the cause when the factory throws and nothing stale exists', async () => {
    const error = await cache.getOrCompute('k', failing()).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CacheFactoryFailedError);
    expect(error).toMatchObject({ code: 'CACHE.FACTORY_FAILED', key: 'k' });
    expect((error as Error).cause).toEqual(new Error('origin down'));
  });

  it('serves stale after softTimeout while the refresh finishes in the background', async () => {
    await seedExpired('old');
    const slow = deferred<string>();
    const result = cache.getOrComputeWithStatus('k', () => slow.promise, { softTimeout: 30 });
    await clock.advance(30);
    await expect(result).resolves.toMatchObject({ value: 'old', status: 'STALE' });
    slow.resolve('new');
    await settle();
    await expect(cache.getOrComputeWithStatus('k', async () => 'unused')).resolves.toMatchObject({ value: 'new', status: 'HIT' });
  });

  it('waits for the factory past softTimeout when there is nothing stale', async () => {
    const slow = deferred<string>();
    const result = cache.getOrComputeWithStatus('k', () => slow.promise, { softTimeout: 10 });
    await clock.advance(80);
    slow.resolve('v');
    await expect(result).resolves.toMatchObject({ value: 'v', status: 'MISS' });
  });

  it('bounds every call by hardTimeout and aborts the factory signal', async () => {
    let signal: AbortSignal | undefined;
    const hanging = (context: { signal: AbortSignal }) => {
      signal = context.signal;
      return new Promise<string>(() => undefined);
    };
    const result = cache.getOrCompute('k', hanging, { hardTimeout: 80 }).catch((caught: unknown) => caught);
    await clock.advance(79);
    expect(signal?.aborted).toBe(false);
    await clock.advance(1);
    const error = await result;
    expect(error).toBeInstanceOf(CacheFactoryTimeoutError);
    expect(error).toMatchObject({ code: 'CACHE.FACTORY_TIMEOUT', timeoutMs: 80 });
    expect(signal?.aborted).toBe(true);
  });

  it('serves stale when the hard timeout hits and a stale value exists', async () => {
    await seedExpired('old');
    const result = cache.getOrComputeWithStatus('k', () => new Promise<string>(() => undefined), { hardTimeout: 50 });
    await clock.advance(50);
    await expect(result).resolves.toMatchObject({ value: 'old', status: 'STALE' });
    expect(await metricValue(cache.registry, 'cache_factory_errors_total', { cache: 'default' })).toBe(1);
  });

  it('gives up on stale values past staleTtl', async () => {
    await cache.getOrCompute('k', async () => 'old', { ttl: 10, staleTtl: 10 });
    await clock.advance(30);
    await expect(cache.getOrCompute('k', failing())).rejects.toMatchObject({ code: 'CACHE.FACTORY_FAILED' });
  });

  it('rejects inconsistent options with a typed error', async () => {
    await expect(cache.getOrCompute('k', async () => 1, { ttl: -1 })).rejects.toMatchObject({ code: 'CACHE.INVALID_OPTIONS' });
    expect(() => new StampedeCache({ namespace: 'a{b}' })).toThrow(expect.objectContaining({ code: 'CACHE.INVALID_OPTIONS' }));
    expect(() => new StampedeCache({ l1: { maxBytes: 0 } })).toThrow(expect.objectContaining({ code: 'CACHE.INVALID_OPTIONS' }));
  });
});
