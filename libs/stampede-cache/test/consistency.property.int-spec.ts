import { Logger } from '@nestjs/common';
import fc from 'fast-check';
import Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { setTimeout as elapse } from 'node:timers/promises';
import { TcpProxy } from '../../../test/tcp-proxy';
import { StampedeCache } from '../src/stampede-cache.service';
import { RedisStore } from '../src/stores/redis.store';
import { deferred } from './manual-clock';
import { deleteNamespace } from './redis-harness';
import { TEST_REDIS_URL } from './test-redis';

const KEYS = ['k1', 'k2'] as const;
type Key = (typeof KEYS)[number];
const TRUST_WINDOW_MS = 200;

/** What the origin holds, and what the promise says a read must at least see. */
interface Model {
  /** The origin's current version of each key. */
  data: Record<Key, number>;
  /** Per key: the newest version an invalidation that has returned was issued for. */
  floor: Record<Key, number>;
  violations: string[];
  /** L2 versions must never go back: the newest seen per key. */
  newestInL2: Record<Key, number>;
}

/** The real thing: two instances, each behind a proxy the test can freeze, and the slow computations they run. */
interface Real {
  caches: StampedeCache[];
  proxies: TcpProxy[];
  pending: Array<Promise<unknown>>;
  gates: Array<() => void>;
  /** Set at the end of a run: computations no longer wait for the test. */
  released: boolean;
  redis: Redis;
  store: RedisStore;
}

type Command = fc.AsyncCommand<Model, Real>;

/** Starts a read; when it settles its value must be at least as new as the floor at its start. */
class Read implements Command {
  constructor(
    readonly instance: number,
    readonly key: Key,
    readonly fresh: boolean,
  ) {}
  check = () => true;
  async run(model: Model, real: Real) {
    const floor = model.floor[this.key];
    const started = deferred<void>();
    const factory = async () => {
      started.resolve();
      const version = model.data[this.key];
      if (!real.released) {
        const gate = deferred<void>();
        real.gates.push(gate.resolve);
        await gate.promise; // a slow computation: the test decides when it ends
      }
      return { key: this.key, version };
    };
    const read = real.caches[this.instance].getOrCompute(this.key, factory, { tags: [`tag:${this.key}`], forceRefresh: this.fresh }).then(
      (value) => {
        if (value.version < floor) model.violations.push(`${this.toString()} answered v${value.version}, older than v${floor}`);
      },
      () => undefined,
    ); // errors (timeouts while frozen) break no promise
    real.pending.push(read);
    await Promise.race([started.promise, read, elapse(20)]); // a computation, if any, has read the origin
  }
  toString = () => `read(${this.instance}, ${this.key}${this.fresh ? ', fresh' : ''})`;
}

/** The origin changes, then the instance invalidates; once that returns, nothing older may be served. */
class Change implements Command {
  constructor(
    readonly instance: number,
    readonly key: Key,
    readonly byTag: boolean,
  ) {}
  check = () => true;
  async run(model: Model, real: Real) {
    const version = ++model.data[this.key];
    const cache = real.caches[this.instance];
    const invalidation = this.byTag ? cache.invalidateTags([`tag:${this.key}`]) : cache.invalidate(this.key);
    real.pending.push(
      invalidation.then(
        () => (model.floor[this.key] = Math.max(model.floor[this.key], version)),
        () => undefined, // CACHE.INVALIDATION_PENDING: no promise was made
      ),
    );
    await Promise.race([invalidation.catch(() => undefined), elapse(5)]); // the next command may run while it is in flight
  }
  toString = () => `change(${this.instance}, ${this.key}, ${this.byTag ? 'tag' : 'key'})`;
}

/** Lets the oldest slow computations finish. */
class Finish implements Command {
  constructor(readonly count: number) {}
  check = () => true;
  async run(_model: Model, real: Real) {
    for (const open of real.gates.splice(0, this.count)) open();
    await elapse(2); // an interleaving: their writes may or may not land before the next command
  }
  toString = () => `finish(${this.count})`;
}

/** Freezes or thaws one instance's connections to Redis. */
class Network implements Command {
  constructor(
    readonly instance: number,
    readonly frozen: boolean,
  ) {}
  check = () => true;
  async run(_model: Model, real: Real) {
    if (this.frozen) real.proxies[this.instance].freeze();
    else real.proxies[this.instance].thaw();
  }
  toString = () => `${this.frozen ? 'freeze' : 'thaw'}(${this.instance})`;
}

/** Real time passes (trust windows lapse, leases run out). */
class Pass implements Command {
  constructor(readonly ms: number) {}
  check = () => true;
  async run(model: Model, real: Real) {
    await elapse(this.ms);
    // An older value never replaces a newer one in L2.
    for (const key of KEYS) {
      const entry = await real.store.get(key);
      const version = (entry?.value as { version?: number } | undefined)?.version;
      if (version === undefined) continue;
      if (version < model.newestInL2[key]) model.violations.push(`L2 went back from v${model.newestInL2[key]} to v${version} for ${key}`);
      model.newestInL2[key] = Math.max(model.newestInL2[key], version);
    }
  }
  toString = () => `pass(${this.ms})`;
}

const instance = fc.integer({ min: 0, max: 1 });
const key = fc.constantFrom(...KEYS);
const commands = fc.commands(
  [
    fc.tuple(instance, key, fc.boolean()).map(([i, k, fresh]) => new Read(i, k, fresh)),
    fc.tuple(instance, key, fc.boolean()).map(([i, k, byTag]) => new Change(i, k, byTag)),
    fc.integer({ min: 1, max: 3 }).map((n) => new Finish(n)),
    fc.tuple(instance, fc.boolean()).map(([i, frozen]) => new Network(i, frozen)),
    fc.integer({ min: 0, max: 300 }).map((ms) => new Pass(ms)),
  ],
  { maxCommands: 25 },
);

/**
 * Model-based test of the consistency promise on a real Redis: random interleavings of
 * reads, slow computations, changes with key or tag invalidations, and per-instance Redis
 * outages. Whatever the order, a read that starts after an invalidation returned never
 * answers with data older than it, and L2 never goes back to an older value.
 */
describe('consistency promise (model-based, real Redis)', () => {
  beforeAll(() => {
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  });
  afterAll(() => jest.restoreAllMocks());

  it('holds under random interleavings of reads, slow computes, invalidations and outages', async () => {
    const target = new URL(TEST_REDIS_URL);
    await fc.assert(
      fc.asyncProperty(commands, async (run) => {
        const namespace = `sc-model-${randomUUID()}`;
        const redis = new Redis(TEST_REDIS_URL);
        const proxies = [0, 1].map(() => new TcpProxy(target.hostname, Number(target.port || 6379)));
        const ports = await Promise.all(proxies.map((proxy) => proxy.start()));
        const caches = await Promise.all(
          ports.map((port) =>
            StampedeCache.create({
              redis: `redis://${target.hostname}:${port}`,
              namespace,
              random: () => 1,
              redisTimeoutMs: 100,
              circuitBreaker: { failureThreshold: 2, resetTimeoutMs: 100 },
              l1: { trustWindowMs: TRUST_WINDOW_MS },
              defaults: { ttl: 60_000, hardTimeout: 2_000, lockTtl: 300 },
            }),
          ),
        );
        const model: Model = { data: { k1: 0, k2: 0 }, floor: { k1: 0, k2: 0 }, violations: [], newestInL2: { k1: 0, k2: 0 } };
        const real: Real = { caches, proxies, pending: [], gates: [], released: false, redis, store: new RedisStore(redis, namespace) };
        try {
          await fc.asyncModelRun(() => ({ model, real }), run);
          for (const proxy of proxies) proxy.thaw();
          real.released = true;
          real.gates.splice(0).forEach((open) => open());
          await Promise.all(real.pending);
          // Once everything settled, every instance answers the newest data.
          for (const cache of caches) {
            for (const k of KEYS) {
              const value = await cache.getOrCompute(k, async () => ({ key: k, version: model.data[k] }), { tags: [`tag:${k}`] });
              if (value.version < model.floor[k]) model.violations.push(`after the run: v${value.version} < v${model.floor[k]} for ${k}`);
            }
          }
        } finally {
          await Promise.all(caches.map((cache) => cache.close()));
          await Promise.all(proxies.map((proxy) => proxy.cut()));
          await deleteNamespace(redis, namespace);
          await redis.quit();
        }
        expect(model.violations).toEqual([]);
      }),
      { numRuns: 30, interruptAfterTimeLimit: 60_000 },
    );
  });
});
