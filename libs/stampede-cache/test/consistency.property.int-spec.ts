import { Logger } from '@nestjs/common';
import fc from 'fast-check';
import Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { eventually } from '../../../test/eventually';
import { RedisStore } from '../src/redis/redis.store';
import { KEYS } from './model/cache-calls';
import { modelCommands, type World } from './model/commands';
import { FaultHistory } from './model/fault-history';
import { FaultyLink } from './model/faulty-link';
import { LocalInstance, RemoteInstance, WorkerProcess, type CacheInstance } from './model/instances';
import { Origin } from './model/origin';
import { PromiseModel } from './model/promise-model';
import type { InstanceState } from './model/worker-protocol';
import { deleteNamespace, startRedisServer, type RedisServerProcess } from '../src/testing/redis-harness';

/**
 * Run counts, explicit. CI: the fixed seeds (so a failure there is reproducible as is) plus
 * one random seed, RUNS_PER_SEED runs each, every run up to MAX_COMMANDS commands
 * (`size: 'max'`, else fast-check caps a run at about 10). Locally: FC_SEED=<seed> replays
 * one seed, FC_RUNS=<n> runs n per seed (e.g. FC_RUNS=200 for a long soak).
 */
const FIXED_SEEDS = [20261207, 1618033, 2718281];
const RUNS_PER_SEED = Number(process.env.FC_RUNS ?? 6);
const MAX_COMMANDS = 60;
/** The average command count per run must be at least this: a run that stops early tests little. */
const MIN_AVERAGE_COMMANDS = 20;
/**
 * Whether single-flight findings fail the test. Not yet in CI: under stalls of the worker
 * process and restarts, seeds such as 20261207 sometimes show two runs of a key at once on the
 * stalled instance, or a run while another instance's lock looked surely held (open finding,
 * issue 16's closing note). The read checks (the promise itself) always fail the test.
 */
const STRICT_SINGLE_FLIGHT = process.env.FC_STRICT_SINGLE_FLIGHT === '1';
const seeds = process.env.FC_SEED ? [Number(process.env.FC_SEED)] : [...FIXED_SEEDS, Math.floor(Math.random() * 2 ** 31)];

/** Instances 0 and 1 run in this process; instance 2 in a worker process (stalls, an offset clock). */
const REMOTE = [2];

/**
 * The consistency promise (README, "The promise") as a model-based test on a Redis this test
 * owns: three instances (two here, one in another process whose event loop the test stalls
 * and whose wall clock is off), each with its command and subscriber links behind their own
 * faulty proxies. Random interleavings of reads (plain, forceRefresh, minComputedAt; static
 * and value-derived tags; short ttl and early refresh; soft timeouts; negative results;
 * fast, slow and failing factories), origin changes followed by key, tag or shared-tag
 * invalidations, link delays, silences, freezes, cuts and heals, Redis crashes and restarts,
 * process stalls and a degraded start. Every read is checked against the model
 * (model/promise-model.ts), every factory run against single flight (model/origin.ts), L2
 * never goes back, and once everything is healed every instance answers the newest data.
 */
describe('consistency promise (model-based, faults, real Redis)', () => {
  let redis: { server: RedisServerProcess; stop: () => Promise<void> };
  let worker: WorkerProcess;
  let admin: Redis;
  const totals = { runs: 0, commands: 0, reads: 0, factoryRuns: 0, known: [] as string[], outcomes: {} as Record<string, number> };

  beforeAll(async () => {
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'debug').mockImplementation(() => undefined);
    [redis, worker] = await Promise.all([startRedisServer(), WorkerProcess.fork()]);
    admin = new Redis(redis.server.url, { maxRetriesPerRequest: 1, retryStrategy: () => 50 });
    admin.on('error', () => undefined); // the test restarts this Redis
  }, 30_000);

  afterAll(async () => {
    admin?.disconnect();
    await worker?.stop();
    await redis?.stop();
    jest.restoreAllMocks();
    process.stdout.write(
      `model test: ${totals.runs} runs, ${(totals.commands / Math.max(1, totals.runs)).toFixed(1)} commands per run on average, ` +
        `${totals.reads} reads (${JSON.stringify(totals.outcomes)}), ${totals.factoryRuns} factory runs; ${totals.known.length} known findings (single flight unless FC_STRICT_SINGLE_FLIGHT=1; see promise-model.ts)` +
        totals.known.map((line) => `\n  known: ${line}`).join('') +
        '\n',
    );
  });

  /** One run: fresh namespace, links and instances; the commands; then heal everything and check the end state. */
  async function run(setup: { degraded: number; clockOffsetMs: number }, commands: Iterable<fc.AsyncCommand<object, World>>) {
    const namespace = `sc-model-${randomUUID()}`;
    const history = new FaultHistory(3);
    const violations: string[] = [];
    // Single flight across faults (stalls, restarts) is not yet steady: its findings are printed, and fail with FC_STRICT_SINGLE_FLIGHT=1.
    const origin = new Origin(history, STRICT_SINGLE_FLIGHT ? violations : totals.known);
    const model = new PromiseModel(origin, [0, 0, setup.clockOffsetMs]);
    model.violations.push = (...items: string[]) => violations.push(...items);
    const links = await Promise.all(
      [0, 1, 2].map(async () => {
        const pair = {
          command: new FaultyLink('127.0.0.1', redis.server.port),
          subscriber: new FaultyLink('127.0.0.1', redis.server.port),
        };
        await Promise.all([pair.command.start(), pair.subscriber.start()]);
        return pair;
      }),
    );
    if (setup.degraded >= 0) {
      // A degraded start: the instance is created while it cannot reach Redis at all.
      await Promise.all([links[setup.degraded].command.cut(), links[setup.degraded].subscriber.cut()]);
      history.commandLink(setup.degraded, false);
    }
    const instances: CacheInstance[] = [
      new LocalInstance('a', links[0], namespace),
      new LocalInstance('b', links[1], namespace),
      new RemoteInstance('c', links[2], namespace, worker, setup.clockOffsetMs),
    ];
    const world: World = {
      instances,
      origin,
      model,
      history,
      redis: redis.server,
      l2: new RedisStore(admin, namespace),
      newestInL2: Object.fromEntries(KEYS.map((key) => [key, 0])) as World['newestInL2'],
      pending: [],
      faultGenerations: {},
      contentions: 0,
    };
    let executed = 0;
    const counted = (function* () {
      for (const command of commands) {
        executed += 1;
        yield command;
      }
    })();
    try {
      const healthy = instances.filter((_, index) => index !== setup.degraded);
      await Promise.all(healthy.map((instance) => instance.started));
      await eventually(
        async () => (await Promise.all(healthy.map((i) => i.state()))).every((s) => s.listening),
        5_000,
        'instances to listen',
      );
      await fc.asyncModelRun(() => ({ model: {}, real: world }), counted);
    } finally {
      try {
        await settle(world, links);
        // Every invalidation returned or was replayed: every instance answers the newest data now.
        for (const [index, instance] of instances.entries()) {
          for (const key of KEYS) {
            const expectation = { label: `final read(${instance.name}, ${key})`, instance: index, key, floor: model.finalFloor(key) };
            const request = { key, mode: 'plain', tagsForm: 'static', ttl: 60_000, beta: 0, kind: 'fast' } as const;
            model.readEnded(expectation, await instance.read(request, origin.factory(-1, instance.name, key, 'fast', Date.now())));
          }
        }
      } finally {
        await Promise.all(instances.map((instance) => instance.close()));
        await Promise.all(links.flatMap((pair) => [pair.command.cut(), pair.subscriber.cut()]));
        await deleteNamespace(admin, namespace);
        totals.runs += 1;
        totals.commands += executed;
        totals.reads += model.reads;
        totals.factoryRuns += origin.runCount;
        totals.known.push(...model.known);
        for (const [outcome, count] of Object.entries(model.outcomes)) totals.outcomes[outcome] = (totals.outcomes[outcome] ?? 0) + count;
      }
    }
    if (violations.length > 0) throw new Error(`the promise broke:\n  ${violations.join('\n  ')}`);
  }

  /** Heals every link, lets every call finish, and waits until every instance hears Redis and owes no invalidation. */
  async function settle(world: World, links: Array<{ command: FaultyLink; subscriber: FaultyLink }>): Promise<void> {
    for (const [index, pair] of links.entries()) {
      for (const id of [`${index}:command`, `${index}:subscriber`]) world.faultGenerations[id] = (world.faultGenerations[id] ?? 0) + 1;
      const reconnects = pair.command.state === 'cut';
      await Promise.all([pair.command.heal(), pair.subscriber.heal()]);
      world.history.commandLink(index, true, reconnects);
    }
    world.origin.releaseAll();
    await Promise.all(world.pending);
    await Promise.all(world.instances.map((instance) => instance.started));
    let states: unknown;
    try {
      // The breaker may stay open without traffic (it closes on the next call): listening and owing nothing is what counts.
      await eventually(
        async () => {
          states = await Promise.all(world.instances.map((instance) => instance.state()));
          return (states as InstanceState[]).every((state) => state.listening && state.pending === 0);
        },
        10_000,
        'every instance to hear Redis again, with no invalidation owed',
      );
    } catch (error) {
      throw new Error(`${(error as Error).message}: ${JSON.stringify(states)}`);
    }
  }

  const setup = fc.record({ degraded: fc.constantFrom(-1, -1, 0, 2), clockOffsetMs: fc.constantFrom(-1_500, 0, 1_500) });
  const property = fc.asyncProperty(setup, modelCommands(3, REMOTE, MAX_COMMANDS), run);

  it.each(seeds)(
    'holds under faults: seed %d',
    async (seed) => {
      await fc.assert(property, { seed, numRuns: RUNS_PER_SEED, endOnFailure: true });
    },
    RUNS_PER_SEED * 20_000,
  );

  it('ran the commands it says', () => {
    expect(totals.commands / Math.max(1, totals.runs)).toBeGreaterThanOrEqual(MIN_AVERAGE_COMMANDS);
  });
});
