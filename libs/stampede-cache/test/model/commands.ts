import fc from 'fast-check';
import { setTimeout as elapse } from 'node:timers/promises';
import { eventually } from '../../../../test/eventually';
import type { RedisStore } from '../../src/redis/redis.store';
import type { RedisServerProcess } from '../../src/testing/redis-harness';
import { KEYS, SHARED_TAG, keyTag, type Key, type ReadRequest, type Value } from './cache-calls';
import type { FaultHistory } from './fault-history';
import type { CacheInstance } from './instances';
import type { Origin } from './origin';
import type { PromiseModel } from './promise-model';

/** The system under test and what the model knows about it, for one run. */
export interface World {
  instances: CacheInstance[];
  origin: Origin;
  model: PromiseModel;
  history: FaultHistory;
  redis: RedisServerProcess;
  /** A direct view of L2 (no proxy), to check that it never goes back to an older value. */
  l2: RedisStore;
  newestInL2: Record<Key, number>;
  /** Calls still running: a run ends only once all have settled (and been checked). */
  pending: Array<Promise<unknown>>;
  /** How many contentions ran: each uses a key of its own. */
  contentions: number;
  /** Per link, how many faults it has had: a fault's timed heal applies only if no newer fault came. */
  faultGenerations: Record<string, number>;
}

type Command = fc.AsyncCommand<object, World>;

/**
 * Every command lets its call run on while the next command starts: it waits only until the
 * call settled or `pauseMs` of real time passed, whichever is first. That pause is the
 * interleaving itself (how far a call gets before the next one begins), not a wait for
 * something to happen, so it is real time by design.
 */
async function overlap(call: Promise<unknown>, pauseMs: number): Promise<void> {
  await Promise.race([call, elapse(pauseMs)]);
}

/** A read on one instance, checked against the model when it answers. */
class Read implements Command {
  constructor(
    readonly instance: number,
    readonly request: ReadRequest,
    readonly pauseMs: number,
  ) {}
  check = () => true;
  async run(_: object, world: World) {
    const target = world.instances[this.instance];
    const expectation = world.model.readStarted(this.instance, this.toString(), this.request);
    const factory = world.origin.factory(this.instance, target.name, this.request.key, this.request.kind, Date.now());
    const call = target.read(this.request, factory).then((answer) => world.model.readEnded(expectation, answer));
    world.pending.push(call);
    await overlap(call, this.pauseMs);
  }
  toString = () => {
    const { key, mode, tagsForm, ttl, beta, softTimeout, kind } = this.request;
    const extras = [mode, tagsForm, `ttl ${ttl}`, `beta ${beta}`, softTimeout && `soft ${softTimeout}`, kind].filter(Boolean);
    return `read(${this.instance}, ${key}, ${extras.join(', ')})`;
  };
}

/** The same read on every instance at once (traffic spread over replicas): every L1 may hold the key afterwards. */
class ReadEverywhere implements Command {
  constructor(
    readonly request: ReadRequest,
    readonly pauseMs: number,
  ) {}
  check = () => true;
  async run(model: object, world: World) {
    const reads = world.instances.map((_, index) => new Read(index, this.request, this.pauseMs));
    await Promise.all(reads.map((read) => read.run(model, world)));
  }
  toString = () => new Read(-1, this.request, this.pauseMs).toString().replace('read(-1, ', 'readEverywhere(');
}

/**
 * The origin changes, then one instance invalidates the key, its own tag or the shared tag;
 * `thenRead`: once it returned (or threw), every instance reads the key, which is what an
 * app's next requests do and what the promise is about.
 */
class Change implements Command {
  constructor(
    readonly instance: number,
    readonly key: Key,
    readonly by: 'key' | 'tag' | 'shared',
    readonly negative: boolean,
    readonly pauseMs: number,
    readonly thenRead: boolean,
  ) {}
  check = () => true;
  async run(model: object, world: World) {
    const target = world.instances[this.instance];
    world.origin.change(this.key, this.negative);
    const invalidation = world.model.invalidationStarted(this.instance, this.by === 'shared' ? KEYS : [this.key]);
    if (this.by === 'key') world.history.keyInvalidated(this.key, this.instance);
    const call = (
      this.by === 'key' ? target.invalidate(this.key) : target.invalidateTags([this.by === 'shared' ? SHARED_TAG : keyTag(this.key)])
    ).then((answer) => {
      world.model.invalidationEnded(invalidation, answer);
      if (!answer.ok && this.by === 'key') world.history.keyInvalidated(this.key, this.instance, true);
    });
    world.pending.push(call);
    if (!this.thenRead) return overlap(call, this.pauseMs);
    await call;
    await new ReadEverywhere(AFTER_CHANGE(this.key), 0).run(model, world);
  }
  toString = () =>
    `change(${this.instance}, ${this.key}${this.negative ? ' to negative' : ''}, by ${this.by}${this.thenRead ? ', then read everywhere' : ''})`;
}

/** The read every instance makes after a change, in `thenRead`. */
const AFTER_CHANGE = (key: Key): ReadRequest => ({ key, mode: 'plain', tagsForm: 'static', ttl: 60_000, beta: 1, kind: 'fast' });

/** The oldest slow factories answer (or fail). */
class Finish implements Command {
  constructor(
    readonly count: number,
    readonly ok: boolean,
    readonly pauseMs: number,
  ) {}
  check = () => true;
  async run(_: object, world: World) {
    world.origin.finish(this.count, this.ok);
    await elapse(this.pauseMs); // interleaving: their writes may or may not land before the next command
  }
  toString = () => `${this.ok ? 'finish' : 'fail'}(${this.count})`;
}

type LinkFault = 'slow' | 'silent' | 'freeze' | 'cut' | 'heal';

/**
 * One link of one instance: slowed below the Redis timeout, silent (delayed beyond it),
 * frozen, cut, or healed. A fault with `forMs` heals itself after that long (unless another
 * fault of the link came since), as most outages do; without, it lasts until a heal or the
 * end of the run.
 */
class Fault implements Command {
  constructor(
    readonly instance: number,
    readonly link: 'command' | 'subscriber',
    readonly fault: LinkFault,
    readonly forMs?: number,
  ) {}
  check = () => true;
  async run(_: object, world: World) {
    const generation = await applyFault(world, this.instance, this.link, this.fault);
    if (this.forMs === undefined || this.fault === 'heal') return;
    // Real time: the outage lasts this long while other commands run.
    const heal = elapse(this.forMs).then(async () => {
      if (world.faultGenerations[linkId(this.instance, this.link)] === generation)
        await applyFault(world, this.instance, this.link, 'heal');
    });
    world.pending.push(heal);
  }
  toString = () => `${this.fault}(${this.instance}, ${this.link}${this.forMs === undefined ? '' : `, ${this.forMs} ms`})`;
}

const linkId = (instance: number, link: string) => `${instance}:${link}`;

/** Applies a fault to a link (recorded in the fault history first, so the model never trusts a link too long); returns its generation. */
async function applyFault(world: World, instance: number, link: 'command' | 'subscriber', fault: LinkFault): Promise<number> {
  const id = linkId(instance, link);
  const generation = (world.faultGenerations[id] = (world.faultGenerations[id] ?? 0) + 1);
  const target = world.instances[instance].links[link];
  const reconnects = target.state === 'cut';
  if (link === 'command') world.history.commandLink(instance, fault === 'heal', reconnects);
  if (fault === 'heal') await target.heal();
  else if (fault === 'cut') await target.cut();
  else if (fault === 'freeze') target.freeze();
  else target.delay(fault === 'slow' ? 20 : 300);
  if (link === 'command') world.history.commandLink(instance, fault === 'heal', reconnects);
  return generation;
}

/**
 * What stampede protection is for, under a fault: one instance recomputes a key slowly
 * (holding its lock) while another's command link goes silent or freezes, and the latter
 * reads the key too. It must wait (or serve stale), not compute alongside: a lock attempt
 * with no reply was not acquired. The fault heals itself after `forMs`.
 */
class Contention implements Command {
  constructor(
    readonly holder: number,
    readonly other: number,
    readonly fault: 'silent' | 'freeze',
    readonly forMs: number,
  ) {}
  check = () => true;
  async run(model: object, world: World) {
    const pair = [this.holder, this.other];
    await Promise.all(pair.map((index) => healed(model, world, index, KEYS[0])));
    // A key of its own, never read before: no computation of it is running or queued anywhere, so both reads go for the lock.
    const key = `contended-${(world.contentions += 1)}` as Key;
    const read = (kind: ReadRequest['kind']): ReadRequest => ({ key, mode: 'plain', tagsForm: 'static', ttl: 60_000, beta: 0, kind });
    await new Read(this.holder, read('slow'), 0).run(model, world);
    await eventually(() => world.origin.running(this.holder, key), 2_000, 'the holder to compute').catch(() => undefined);
    await new Fault(this.other, 'command', this.fault, this.forMs).run(model, world);
    // Until it answered (bounded): no other command (a restart, a heal) may blur what the model knows meanwhile.
    await new Read(this.other, read('fast'), 2_500).run(model, world);
  }
  toString = () => `contention(${this.holder} computes slowly, ${this.other}'s command link ${this.fault} for ${this.forMs} ms)`;
}

/**
 * Heals the instance's links and waits (bounded; it goes on regardless) until it hears its
 * own heartbeats and its breaker closed again after a read of `key`: from then on the model
 * knows its command link works (whatever reconnect delay a cut left).
 */
async function healed(model: object, world: World, index: number, key: Key): Promise<void> {
  const target = world.instances[index];
  for (const link of ['command', 'subscriber'] as const)
    if (target.links[link].state !== 'ok') await applyFault(world, index, link, 'heal');
  const probe: ReadRequest = { key, mode: 'plain', tagsForm: 'static', ttl: 60_000, beta: 0, kind: 'fast' };
  const ready = await eventually(
    async () => {
      await new Read(index, probe, 1_000).run(model, world);
      const state = await target.state();
      return state.listening && state.circuit === 'closed';
    },
    3_000,
    `${target.name} to hear Redis again`,
  ).catch(() => false);
  if (ready) world.history.confirmedHealthy(index);
}

/** The test-owned Redis crashes (SIGKILL: data gone) and comes back on the same port after `downMs`. */
class RestartRedis implements Command {
  constructor(readonly downMs: number) {}
  check = () => true;
  async run(_: object, world: World) {
    world.history.redisDown();
    await world.redis.kill();
    await elapse(this.downMs); // the outage itself: real time must pass for timeouts, breakers and trust to react
    await world.redis.start();
    world.history.redisUp();
    for (const key of KEYS) world.newestInL2[key] = 0; // L2 starts empty
  }
  toString = () => `restartRedis(down ${this.downMs} ms)`;
}

/** The instance in the other process blocks its event loop (a burst, a GC pause, synchronous work). */
class Stall implements Command {
  constructor(
    readonly instance: number,
    readonly ms: number,
  ) {}
  check = () => true;
  async run(_: object, world: World) {
    const target = world.instances[this.instance];
    if (!target.remote) return;
    world.history.stalled(this.instance, this.ms);
    const stall = target.stall(this.ms).then(() => world.history.stalled(this.instance, 0));
    world.pending.push(stall);
  }
  toString = () => `stall(${this.instance}, ${this.ms} ms)`;
}

/** Real time passes (expiry, trust windows, leases, breaker resets); then L2 must not have gone back. */
class Pass implements Command {
  constructor(readonly ms: number) {}
  check = () => true;
  async run(_: object, world: World) {
    await elapse(this.ms); // the point of the command: time-based behaviour needs real time to pass
    for (const key of KEYS) {
      const entry = await world.l2.get(key).catch(() => undefined); // Redis may be restarting
      const version = (entry?.value as Value | undefined)?.version;
      if (version === undefined) continue;
      if (version < world.newestInL2[key])
        world.model.violations.push(`L2 went back from v${world.newestInL2[key]} to v${version} for ${key}`);
      world.newestInL2[key] = Math.max(world.newestInL2[key], version);
    }
  }
  toString = () => `pass(${this.ms})`;
}

/** The model's commands for `instances` instances, the last `remote` of which run in another process. */
export function modelCommands(instances: number, remote: number[], maxCommands: number) {
  const instance = fc.integer({ min: 0, max: instances - 1 });
  const key = fc.constantFrom(...KEYS);
  const pause = fc.constantFrom(0, 5, 30);
  const request: fc.Arbitrary<ReadRequest> = fc.record(
    {
      key,
      mode: fc.constantFrom('plain', 'plain', 'plain', 'force', 'min'),
      tagsForm: fc.constantFrom('static', 'derived'),
      ttl: fc.constantFrom(150, 60_000, 60_000),
      beta: fc.constantFrom(0, 1, 30),
      softTimeout: fc.constantFrom(50, 1_000),
      kind: fc.constantFrom('fast', 'fast', 'fast', 'slow', 'slow', 'fail'),
    },
    { requiredKeys: ['key', 'mode', 'tagsForm', 'ttl', 'beta', 'kind'] },
  );
  const read = fc.tuple(instance, request, pause).map(([i, r, p]): Command => new Read(i, r, p));
  const readEverywhere = fc.tuple(request, pause).map(([r, p]): Command => new ReadEverywhere(r, p));
  // Often until it returned (the promise is about what happens after that), sometimes overlapping the next commands.
  const changePause = fc.constantFrom(0, 30, 1_000);
  const change = fc
    .tuple(instance, key, fc.constantFrom('key', 'tag', 'shared'), fc.boolean(), changePause, fc.boolean())
    .map(([i, k, by, negative, p, thenRead]): Command => new Change(i, k, by, negative, p, thenRead));
  const finish = fc.tuple(fc.integer({ min: 1, max: 3 }), fc.boolean(), pause).map(([n, ok, p]): Command => new Finish(n, ok, p));
  const fault = fc
    .tuple(
      instance,
      fc.constantFrom('command', 'command', 'subscriber'),
      fc.constantFrom<LinkFault>('slow', 'silent', 'silent', 'freeze', 'freeze', 'cut', 'heal'),
      fc.constantFrom(200, 800, 800, undefined),
    )
    .map(([i, link, f, forMs]): Command => new Fault(i, link, f, forMs));
  const contention = fc
    .tuple(instance, instance, fc.constantFrom<'silent' | 'freeze'>('silent', 'freeze', 'freeze'), fc.constantFrom(1_500, 3_000))
    .filter(([holder, other]) => holder !== other)
    .map(([holder, other, f, forMs]): Command => new Contention(holder, other, f, forMs));
  const pass = fc.integer({ min: 0, max: 300 }).map((ms): Command => new Pass(ms));
  const restart = fc.constantFrom(100, 400).map((ms): Command => new RestartRedis(ms));
  const stall = fc.tuple(fc.constantFrom(...remote), fc.constantFrom(150, 600)).map(([i, ms]): Command => new Stall(i, ms));
  // Weights: mostly reads and changes (what the promise is about), faults often, the slow ones (restart, stall) rarely.
  const command = fc.oneof(
    { arbitrary: read, weight: 16 },
    { arbitrary: readEverywhere, weight: 6 },
    { arbitrary: change, weight: 8 },
    { arbitrary: finish, weight: 6 },
    { arbitrary: fault, weight: 7 },
    { arbitrary: contention, weight: 2 },
    { arbitrary: pass, weight: 4 },
    { arbitrary: stall, weight: 2 },
    { arbitrary: restart, weight: 1 },
  );
  return fc.commands([command], { maxCommands, size: 'max' });
}
