import Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { StampedeCache } from '../src/core/stampede-cache.service';
import { eventually } from '../../../test/eventually';
import { deferred } from '../src/testing/manual-clock';
import { metricValue } from '../src/testing/metric-value';
import { deleteNamespace } from '../src/testing/redis-harness';
import { TEST_REDIS_URL as REDIS_URL } from '../src/testing/test-redis';

/** Blocks the event loop: what a burst of requests, a long GC pause or synchronous app work does. */
function blockEventLoop(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy: nothing else in this process runs
  }
}

/**
 * A stall of this process is not Redis's silence: an instance whose event loop is blocked
 * 700 ms right after it sent its lock command (longer than the 500 ms Redis timeout) must
 * still read the reply ("held by the other instance") and wait, not compute too.
 */
describe('A stalled instance does not take a missing reply for a granted lock (real Redis)', () => {
  const namespace = `sc-stall-${randomUUID()}`;
  const admin = new Redis(REDIS_URL);
  let clients: Redis[] = [];
  let caches: StampedeCache[] = [];

  afterEach(async () => {
    await Promise.all(caches.map((cache) => cache.close()));
    await Promise.all(clients.map((client) => client.quit()));
    await deleteNamespace(admin, namespace);
  });
  afterAll(async () => {
    await admin.quit();
  });

  it('two instances, the second blocked 700 ms right after sending its lock command: one computation', async () => {
    clients = [new Redis(REDIS_URL), new Redis(REDIS_URL)];
    const [, stalling] = clients;
    let armed = false;
    const evalsha = stalling.evalsha.bind(stalling) as (...args: unknown[]) => Promise<unknown>;
    // The lock command goes out, then this process stalls before it can read the reply.
    (stalling as unknown as { evalsha: (...args: unknown[]) => Promise<unknown> }).evalsha = (...args: unknown[]) => {
      const sent = evalsha(...args);
      if (armed && args.some((arg) => typeof arg === 'string' && arg.endsWith(':lock'))) {
        armed = false;
        queueMicrotask(() => blockEventLoop(700)); // once the caller has armed its timeout, as a busy loop would
      }
      return sent;
    };
    caches = await Promise.all(clients.map((redis) => StampedeCache.create({ redis, namespace, redisTimeoutMs: 500, random: () => 1 })));
    await eventually(() => caches.every((cache) => cache.listening), 5_000, 'both instances to hear themselves');
    const [a, b] = caches;
    const gate = deferred<string>();
    let runs = 0;
    let started!: () => void;
    const computing = new Promise<void>((resolve) => (started = resolve));
    const factory = () => ((runs += 1), started(), gate.promise);
    const first = a.getOrCompute('trending', factory);
    await computing;
    armed = true;
    const second = b.getOrCompute('trending', factory);
    await eventually(async () => (await metricValue(b.registry, 'cache_lock_waits_total', {})) === 1, 5_000, 'b to wait on the lock');
    gate.resolve('board');
    await expect(Promise.all([first, second])).resolves.toEqual(['board', 'board']);
    expect(runs).toBe(1);
    expect(b.circuitState).toBe('closed');
    expect(await metricValue(b.registry, 'cache_event_loop_lag_seconds', {})).toBeGreaterThan(0);
  });
});
