import { Logger } from '@nestjs/common';
import { setTimeout as pace } from 'node:timers/promises';
import { eventually } from '../../../test/eventually';
import { TcpProxy } from '../../../test/tcp-proxy';
import { StampedeCache } from '../src/core/stampede-cache.service';
import { startRedisServer, type RedisServerProcess } from '../src/testing/redis-harness';

const TRUST_WINDOW_MS = 300;

/**
 * Fault tests on a Redis this test started. Users must see no errors when Redis dies (reads
 * fall back to L1 and the origin), an instance that cannot reach Redis stops serving L1
 * within the trust window, and invalidations it could not deliver are replayed once it can.
 */
describe('Redis crash, partition and recovery', () => {
  let redis: { server: RedisServerProcess; stop: () => Promise<void> };
  const options = (url: string, namespace: string) => ({
    redis: url,
    namespace,
    redisTimeoutMs: 200,
    circuitBreaker: { failureThreshold: 3, resetTimeoutMs: 200 },
    l1: { trustWindowMs: TRUST_WINDOW_MS },
    random: () => 1,
  });

  beforeAll(async () => {
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    redis = await startRedisServer();
  });

  afterAll(async () => {
    await redis.stop();
    jest.restoreAllMocks();
  });

  it('keeps every getOrCompute resolving through a crash, then uses Redis again after restart', async () => {
    const instances = await Promise.all([1, 2].map(() => StampedeCache.create(options(redis.server.url, 'sc-fault'))));
    try {
      const factory = (key: string) => async () => `value of ${key}`;
      const calls: Array<Promise<{ ok: boolean; ms: number }>> = [];
      let trafficOn = true;
      const traffic = (async () => {
        for (let tick = 0; trafficOn; tick++) {
          for (let i = 0; i < 6; i++) {
            const key = `key-${(tick * 7 + i) % 25}`;
            const startedAt = Date.now();
            calls.push(
              instances[i % 2].getOrCompute(key, factory(key), { ttl: 200 }).then(
                (value) => ({ ok: value === `value of ${key}`, ms: Date.now() - startedAt }),
                () => ({ ok: false, ms: Date.now() - startedAt }),
              ),
            );
          }
          await pace(10); // a steady request rate, not a wait for something to happen
        }
      })();

      await eventually(() => calls.length > 100, 5_000, 'traffic before the crash');
      await redis.server.kill('SIGKILL');
      await eventually(() => instances.every((cache) => cache.circuitState !== 'closed'), 5_000, 'the breakers to notice the outage');
      const duringOutage = calls.length;
      await eventually(() => calls.length > duringOutage + 100, 5_000, 'traffic during the outage');
      await redis.server.start(); // same port, empty data
      await eventually(() => instances.every((cache) => cache.circuitState === 'closed'), 5_000, 'the breakers to close');
      trafficOn = false;
      await traffic;
      const results = await Promise.all(calls);

      expect(results.length).toBeGreaterThan(200);
      expect(results.filter((result) => !result.ok)).toEqual([]);
      expect(Math.max(...results.map((result) => result.ms))).toBeLessThan(1_000); // degraded to misses, never stalled

      // L2 is shared again: a value computed by one instance is a HIT on the other without its factory.
      await instances[0].getOrCompute('after-restart', async () => 'from instance 0');
      let secondFactoryRan = false;
      const onSecond = await instances[1].getOrComputeWithStatus(
        'after-restart',
        async () => ((secondFactoryRan = true), 'from instance 1'),
      );
      expect(onSecond).toMatchObject({ value: 'from instance 0', status: 'HIT' });
      expect(secondFactoryRan).toBe(false);
    } finally {
      await Promise.all(instances.map((cache) => cache.close()));
    }
  });

  it('stops serving L1 within the trust window when its Redis connection freezes, and replays the invalidations it could not deliver', async () => {
    const proxy = new TcpProxy('127.0.0.1', redis.server.port);
    await proxy.start();
    const cut = await StampedeCache.create(options(`redis://127.0.0.1:${proxy.port}`, 'sc-partition'));
    const peer = await StampedeCache.create(options(redis.server.url, 'sc-partition'));
    try {
      let version = 1;
      const read = (cache: StampedeCache) => cache.getOrComputeWithStatus('k', async () => `v${version}`, { tags: ['t'], ttl: 60_000 });
      expect(await read(cut)).toMatchObject({ value: 'v1', status: 'MISS' });
      expect(await read(peer)).toMatchObject({ value: 'v1', status: 'HIT' });
      expect(await read(cut)).toMatchObject({ value: 'v1', status: 'HIT' }); // from its L1

      proxy.freeze(); // no error on any socket: only the missing heartbeats tell
      const frozenAt = Date.now();
      version = 2; // the origin changed; the cut instance cannot hear about it
      const origin = await eventually(
        async () => {
          const result = await read(cut);
          return result.value === 'v2' ? result : undefined;
        },
        5_000,
        'the cut instance to stop trusting its L1',
      );
      expect(Date.now() - frozenAt).toBeLessThan(TRUST_WINDOW_MS + 700); // window + Redis timeout + one heartbeat period
      expect(origin.status).toBe('MISS');

      // Its invalidation cannot reach Redis: it says so instead of pretending.
      await expect(cut.invalidateTags(['t'])).rejects.toMatchObject({ code: 'CACHE.INVALIDATION_PENDING' });
      expect(cut.usage.pendingInvalidations).toBe(1);
      expect(await read(peer)).toMatchObject({ value: 'v1' }); // the promise did not hold yet: invalidate did not return

      proxy.thaw();
      await eventually(
        () => cut.usage.pendingInvalidations === 0 && cut.circuitState === 'closed',
        5_000,
        'the replay of the pending invalidation',
      );
      expect(await read(peer)).toMatchObject({ value: 'v2' });
    } finally {
      await Promise.all([cut.close(), peer.close()]);
      await proxy.cut();
    }
  });

  it('returns an invalidation only once an instance that cannot hear it has stopped serving its L1', async () => {
    const proxy = new TcpProxy('127.0.0.1', redis.server.port);
    await proxy.start();
    const deaf = await StampedeCache.create(options(`redis://127.0.0.1:${proxy.port}`, 'sc-deaf'));
    const invalidator = await StampedeCache.create(options(redis.server.url, 'sc-deaf'));
    try {
      let version = 1;
      const read = (cache: StampedeCache) => cache.getOrComputeWithStatus('k', async () => `v${version}`, { tags: ['t'], ttl: 60_000 });
      await read(deaf);
      expect(await read(deaf)).toMatchObject({ value: 'v1', status: 'HIT' }); // in its L1
      proxy.freeze();
      version = 2;
      const startedAt = Date.now();
      await invalidator.invalidateTags(['t']); // the deaf instance cannot acknowledge: bounded by the trust window
      expect(Date.now() - startedAt).toBeLessThan(TRUST_WINDOW_MS + 200);
      expect(await read(deaf)).toMatchObject({ value: 'v2' }); // right after it returned: not the old value
    } finally {
      proxy.thaw();
      await Promise.all([deaf.close(), invalidator.close()]);
      await proxy.cut();
    }
  });
});
