import { Logger } from '@nestjs/common';
import { StampedeCache } from '../src/stampede-cache.service';
import { sleep } from '../src/timing';
import { eventually } from '../../../test/eventually';
import { startRedisServer, type RedisServerProcess } from './redis-harness';

/**
 * Fault test: the Redis this test started is SIGKILLed mid-traffic. Users must see no
 * errors (reads fall back to L1 and the factory), and once Redis is back on the same
 * port the breaker closes and L2 is shared again.
 */
describe('Redis crash and recovery', () => {
  let redis: { server: RedisServerProcess; stop: () => Promise<void> };
  let instances: StampedeCache[];

  beforeAll(async () => {
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    redis = await startRedisServer();
    const options = { redis: redis.server.url, namespace: 'sc-fault', redisTimeoutMs: 200, circuitBreaker: { failureThreshold: 3, resetTimeoutMs: 200 }, random: () => 1 };
    instances = await Promise.all([StampedeCache.create(options), StampedeCache.create(options)]);
  });

  afterAll(async () => {
    await Promise.all(instances.map((cache) => cache.close()));
    await redis.stop();
    jest.restoreAllMocks();
  });

  it('keeps every getOrCompute resolving through a crash, then uses Redis again after restart', async () => {
    const factory = (key: string) => async () => {
      await sleep(5);
      return `value of ${key}`;
    };
    const calls: Array<Promise<{ ok: boolean; ms: number }>> = [];
    const trafficUntil = Date.now() + 1_500;
    const traffic = (async () => {
      for (let tick = 0; Date.now() < trafficUntil; tick++) {
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
        await sleep(10);
      }
    })();

    await sleep(400);
    await redis.server.kill('SIGKILL');
    await sleep(500);
    expect(instances.map((cache) => cache.circuitState)).not.toContain('closed'); // the breaker noticed the outage
    await redis.server.start(); // same port, empty data
    await traffic;
    const results = await Promise.all(calls);

    expect(results.length).toBeGreaterThan(300);
    expect(results.filter((result) => !result.ok)).toEqual([]);
    expect(Math.max(...results.map((result) => result.ms))).toBeLessThan(1_000); // degraded to misses, never stalled

    // Recovery: probes close the breaker once Redis answers.
    await eventually(
      async () => {
        await Promise.all(instances.map((cache) => cache.getOrCompute('probe', async () => 'p')));
        return instances.every((cache) => cache.circuitState === 'closed');
      },
      5_000,
      'circuit breakers to close',
    );
    // L2 is shared again: a value computed by one instance is a HIT on the other without its factory.
    await instances[0].getOrCompute('after-restart', async () => 'from instance 0');
    let secondFactoryRan = false;
    const onSecond = await instances[1].getOrComputeWithStatus('after-restart', async () => {
      secondFactoryRan = true;
      return 'from instance 1';
    });
    expect(onSecond).toMatchObject({ value: 'from instance 0', status: 'HIT' });
    expect(secondFactoryRan).toBe(false);
  });
});
