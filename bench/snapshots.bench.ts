/**
 * Snapshot benchmark: loading a user with AWARDS point awards through the repository, with and
 * without snapshots, against loading a user with one event, all in one run on one PostgreSQL.
 *   npm run bench:snapshots    (AWARDS=100000 EVERY=10,50,100,500 ITERATIONS=200 ROUNDS=3 COMMANDS=300)
 * Worst case per snapshot interval N (each in EVERY): the snapshot was taken at version
 * 1 + AWARDS - (N - 1), so a load restores it and replays the N - 1 events after it (one more
 * would be due for a new snapshot). Each N gets a snapshot shape version of its own, so all sit
 * on the same stream. Also: COMMANDS awards through `update` (load + append) on a fresh user,
 * snapshots off and on, to show what a command pays. Medians of interleaved rounds.
 * Prints figures and ratios, writes <BENCH_OUT or docs/benchmarks>/snapshots.{json,svg}.
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { AggregateRepository, createEventStore, type EventStoreHandle } from '@app/event-store';
import { appEventStore } from '../apps/api/src/app-event-store';
import { User } from '../apps/api/src/users/user.aggregate';
import { userSnapshot } from '../apps/api/src/users/user.snapshot';
import { userStreamId } from '../apps/api/src/users/user-stream';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '@app/event-store/testing';
import { benchOutDir, environment } from './bench-env';
import { writeBarChart } from './chart';
import { median } from './measure';

const URL = process.env.DATABASE_URL ?? TEST_DATABASE_URL;
const AWARDS = Number(process.env.AWARDS ?? 100_000);
const EVERY = (process.env.EVERY ?? '10,50,100,500')
  .split(',')
  .map(Number)
  .sort((a, b) => b - a);
const ITERATIONS = Number(process.env.ITERATIONS ?? 200);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const COMMANDS = Number(process.env.COMMANDS ?? 300);
const progress = (s: string) => process.stderr.write(`  ${s}\n`);

/** Appends awards `from..to` (stream versions) to a user's stream in one statement, as PointsAwarded v3. */
async function seedAwards(es: EventStoreHandle, userId: string, from: number, to: number): Promise<void> {
  await es.db.query(
    `INSERT INTO "${es.schema}".events (event_id, stream_id, stream_version, type, schema_version, data, metadata)
     SELECT gen_random_uuid(), $1, v, 'PointsAwarded', 3,
            jsonb_build_object('points', 1 + v % 9, 'reason', 'quiz ' || v, 'awardedAt', '2026-01-01T00:00:00.000Z'),
            jsonb_build_object('occurredAt', '2026-01-01T00:00:00.000Z')
       FROM generate_series($2::int, $3::int) AS v`,
    [userStreamId(userId), from, to],
  );
}

/** Milliseconds of one load. */
async function timeLoad(repository: AggregateRepository, userId: string): Promise<number> {
  const started = process.hrtime.bigint();
  const user = await repository.load(() => new User(userId), userStreamId(userId));
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (!user) throw new Error('user not found');
  return ms;
}

/** Awards per second through `update` (load, change, append) on a fresh user. */
async function commandRate(repository: AggregateRepository, plain: AggregateRepository): Promise<number> {
  const id = randomUUID();
  await plain.save(User.register(id, { firstName: 'Ada', lastName: 'Lovelace', email: `${id}@example.com` }));
  const started = process.hrtime.bigint();
  for (let i = 0; i < COMMANDS; i++) {
    await repository.update(
      () => new User(id),
      userStreamId(id),
      (u) => u.awardPoints(1, 'bench', new Date()),
    );
  }
  return COMMANDS / (Number(process.hrtime.bigint() - started) / 1e9);
}

async function main(): Promise<void> {
  const schema = uniqueSchema('bench_snap');
  const loadAtStart = loadavg()[0];
  const open = (every = 0, version = 1) =>
    createEventStore({
      url: URL,
      schema,
      ...appEventStore,
      poolSize: 2,
      snapshots: every ? [{ ...userSnapshot({ every }), version }] : [],
    });
  const plain = await open();
  const handles: EventStoreHandle[] = [];
  try {
    const replay = new AggregateRepository(plain.store);
    const one = randomUUID();
    const long = randomUUID();
    await replay.save(User.register(one, { firstName: 'Ada', lastName: 'Lovelace', email: 'one@example.com' }));
    await replay.save(User.register(long, { firstName: 'Grace', lastName: 'Hopper', email: 'long@example.com' }));
    const last = 1 + AWARDS;
    // Largest N first: each snapshot is taken at 1 + AWARDS - (N - 1) by a load at that version.
    const perN: Array<{ every: number; snapshotAt: number; tail: number; repository: AggregateRepository; times: number[] }> = [];
    let seeded = 1;
    for (const [i, every] of EVERY.entries()) {
      const at = last - (every - 1);
      progress(`seeding awards up to version ${at}, then a snapshot every ${every} (a full replay)`);
      await seedAwards(plain, long, seeded + 1, at);
      seeded = at;
      const es = await open(every, i + 1);
      handles.push(es);
      const repository = new AggregateRepository(es.store, undefined, es.snapshots);
      await repository.load(() => new User(long), userStreamId(long));
      await es.snapshots.flush();
      perN.push({ every, snapshotAt: at, tail: last - at, repository, times: [] });
    }
    await seedAwards(plain, long, seeded + 1, last);
    await plain.db.query(`VACUUM ANALYZE "${schema}".events`);
    const lookup = handles[handles.length - 1];
    const withLookup = new AggregateRepository(lookup.store, undefined, lookup.snapshots);
    const oneEvent: number[] = [];
    const oneEventLookup: number[] = [];
    const full: number[] = [];
    const rates = { off: [] as number[], on: [] as number[] };
    const smallest = perN[perN.length - 1];
    // One load of each kind in turn, ITERATIONS times per round: on a shared, busy machine every
    // kind then meets the same noise, so their medians compare (blocks of one kind did not).
    const kinds = [
      { times: oneEvent, load: () => timeLoad(replay, one) },
      { times: oneEventLookup, load: () => timeLoad(withLookup, one) },
      ...perN.map((n) => ({ times: n.times, load: () => timeLoad(n.repository, long) })),
    ];
    progress(`warming up, then ${ROUNDS} rounds of ${ITERATIONS} loads of each kind, interleaved`);
    for (let i = 0; i < Math.min(50, ITERATIONS); i++) for (const k of kinds) await k.load();
    for (let r = 0; r < ROUNDS; r++) {
      for (let i = 0; i < ITERATIONS; i++) for (const k of kinds) k.times.push(await k.load());
      full.push(await timeLoad(replay, long));
      rates.off.push(await commandRate(replay, replay));
      rates.on.push(await commandRate(smallest.repository, replay));
    }
    const base = median(oneEvent);
    const results = perN.map((n) => ({
      every: n.every,
      snapshotAt: n.snapshotAt,
      tailEvents: n.tail,
      loadMs: median(n.times),
      p90Ms: [...n.times].sort((a, b) => a - b)[Math.floor(n.times.length * 0.9)],
      ratioToOneEvent: median(n.times) / base,
      meetsTarget: median(n.times) / base <= 3,
    }));
    const figures = {
      oneEventMs: base,
      oneEventWithSnapshotLookupMs: median(oneEventLookup),
      fullReplayMs: median(full),
      fullReplayRatioToOneEvent: median(full) / base,
      commandsPerSec: { snapshotsOff: median(rates.off), snapshotsOn: median(rates.on), every: smallest.every, commands: COMMANDS },
    };
    console.log(`\nLoading a user, medians of ${ROUNDS} rounds x ${ITERATIONS} loads of each kind, interleaved (same run)`);
    console.log(`  one event (baseline)                        ${base.toFixed(3)} ms`);
    console.log(`  one event, snapshots on (lookup misses)     ${figures.oneEventWithSnapshotLookupMs.toFixed(3)} ms`);
    for (const r of results) {
      const label = `${AWARDS} awards, snapshot + ${r.tailEvents} events (N=${r.every})`;
      console.log(
        `  ${label.padEnd(44)}${r.loadMs.toFixed(3)} ms  ${r.ratioToOneEvent.toFixed(2)}x  ${r.meetsTarget ? 'meets' : 'misses'} <= 3x`,
      );
    }
    console.log(
      `  ${`${AWARDS} awards, full replay`.padEnd(44)}${figures.fullReplayMs.toFixed(1)} ms  ${figures.fullReplayRatioToOneEvent.toFixed(0)}x`,
    );
    console.log(
      `  ${COMMANDS} awards by update(): ${figures.commandsPerSec.snapshotsOff.toFixed(0)}/s snapshots off, ${figures.commandsPerSec.snapshotsOn.toFixed(0)}/s every ${smallest.every}`,
    );
    // The machine may be shared: the 1-minute load average says how much noise the figures carry.
    const loadAverage = { start: loadAtStart, end: loadavg()[0] };
    console.log(`  load average (1 min): ${loadAverage.start.toFixed(1)} at the start, ${loadAverage.end.toFixed(1)} at the end`);
    const out = benchOutDir();
    const json = {
      date: new Date().toISOString(),
      command: 'npm run bench:snapshots',
      ...environment(),
      loadAverage,
      awards: AWARDS,
      rounds: ROUNDS,
      iterations: ITERATIONS,
      results,
      ...figures,
    };
    writeFileSync(join(out, 'snapshots.json'), JSON.stringify(json, null, 2) + '\n');
    writeBarChart(
      join(out, 'snapshots.svg'),
      `Loading a user: ${AWARDS} awards from a snapshot + N-1 events vs one event (same run)`,
      'ms',
      [
        { label: 'one event', value: base, group: 'baseline' },
        ...results.map((r) => ({ label: `snapshot + ${r.tailEvents} events (N=${r.every})`, value: r.loadMs, group: 'with snapshots' })),
      ],
    );
  } finally {
    for (const es of handles) await es.close();
    await plain.close();
    await dropSchema(schema, URL);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
