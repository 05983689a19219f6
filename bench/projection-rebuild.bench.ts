/**
 * Projection rebuild benchmark: rebuild throughput of the app's two read
 * models over a 100k+ event log with mixed historic versions, against a plain
 * SELECT stream of the same rows in the same run, plus peak memory.
 *   npm run bench:rebuild          (EVENTS=120000)
 * Prints figures and ratios, writes <BENCH_OUT or docs/benchmarks>/projection-rebuild.{json,svg}.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createEventStore, type EventStoreHandle } from '@app/event-store';
import { appEventStore } from '../apps/api/src/app-event-store';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '../libs/event-store/src/testing/test-database';
import { benchOutDir } from './bench-env';
import { writeBarChart } from './chart';
import { plainSelectAll } from './plain-select';

const URL = process.env.DATABASE_URL ?? TEST_DATABASE_URL;
const EVENTS = Number(process.env.EVENTS ?? 120_000);
const USERS = 5000;
const log = (s: string) => process.stderr.write(`  ${s}\n`);

/** Seeds users (v1/v2 registrations) and awards (v1/v2/v3) with gap-free stream versions. */
async function seed(es: EventStoreHandle, schema: string): Promise<number> {
  await es.dataSource.query(
    `INSERT INTO "${schema}".events (event_id, stream_id, stream_version, type, schema_version, data, metadata)
     SELECT gen_random_uuid(), 'user-' || md5((i % $2)::text)::uuid, (i / $2) + 1,
            CASE WHEN i < $2 THEN 'UserRegistered' ELSE 'PointsAwarded' END,
            CASE WHEN i < $2 THEN 1 + i % 2 ELSE 1 + i % 3 END,
            CASE WHEN i < $2 AND i % 2 = 0 THEN jsonb_build_object('fullName', 'Jean Claude ' || i, 'email', 'u' || i || '@example.com')
                 WHEN i < $2 THEN jsonb_build_object('firstName', 'Ada', 'lastName', 'L' || i, 'email', 'u' || i || '@example.com')
                 WHEN i % 3 = 0 THEN jsonb_build_object('amount', 1 + i % 9)
                 WHEN i % 3 = 1 THEN jsonb_build_object('points', 1 + i % 9, 'reason', 'r')
                 ELSE jsonb_build_object('points', 1 + i % 9, 'reason', 'r', 'awardedAt', to_char(now(), 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')) END,
            jsonb_build_object('occurredAt', to_char(now(), 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))
       FROM generate_series(0, $1 - 1) AS i`,
    [EVENTS, USERS],
  );
  return EVENTS;
}

async function main(): Promise<void> {
  const schema = uniqueSchema('bench_rebuild');
  const es = await createEventStore({
    url: URL, schema, ...appEventStore, projectionPollMs: 100,
    projectionBatchSize: process.env.BATCH ? Number(process.env.BATCH) : undefined,
  });
  let peakRss = 0;
  let peakHeap = 0;
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
  }, 50);
  try {
    log(`seeding ${EVENTS} events (${USERS} users, mixed schema versions)`);
    const total = await seed(es, schema);
    log('initial build of both projections');
    await es.projections.start();
    await waitIdle(es, total);
    const baselineRss = process.memoryUsage().rss;
    peakRss = 0;
    peakHeap = 0;

    log('baseline: plain SELECT stream of the same rows (batches of 500)');
    const t0 = process.hrtime.bigint();
    const selected = await plainSelectAll(URL, schema, 500);
    const selectMs = Number(process.hrtime.bigint() - t0) / 1e6;

    const results: Record<string, number> = {};
    for (const { name } of appEventStore.projections) {
      log(`rebuild ${name}`);
      const t = process.hrtime.bigint();
      await es.projections.rebuild(name);
      for (;;) {
        await new Promise((r) => setTimeout(r, 200));
        const s = (await es.projections.status()).find((p) => p.name === name)!;
        if (s.state === 'stopped-on-error') throw new Error(`${name} stopped: ${JSON.stringify(s.lastError)}`);
        if (!s.rebuild) break;
        log(`  ${s.rebuild.percent}%  ${s.rebuild.eventsPerSecond} events/s  ETA ${s.rebuild.etaSeconds ?? '?'} s`);
      }
      results[name] = total / (Number(process.hrtime.bigint() - t) / 1e9);
    }
    const selectPerSec = selected / (selectMs / 1000);
    console.log(`\nProjection rebuild over ${total} events (same machine, same PostgreSQL, same run)`);
    console.log(`  plain SELECT stream (baseline):   ${selectPerSec.toFixed(0)} rows/s`);
    for (const [name, rate] of Object.entries(results)) {
      console.log(`  rebuild ${name.padEnd(15)}         ${rate.toFixed(0)} events/s   ratio to SELECT ${(rate / selectPerSec).toFixed(3)}`);
    }
    console.log(`  peak RSS during baseline+rebuilds: ${(peakRss / 1e6).toFixed(0)} MB (after seed/initial build: ${(baselineRss / 1e6).toFixed(0)} MB); peak heap ${(peakHeap / 1e6).toFixed(0)} MB`);
    const out = benchOutDir();
    writeFileSync(join(out, 'projection-rebuild.json'), JSON.stringify({
      date: new Date().toISOString(), events: total, selectPerSec, rebuildPerSec: results, peakRssMb: peakRss / 1e6, peakHeapMb: peakHeap / 1e6,
    }, null, 2) + '\n');
    writeBarChart(join(out, 'projection-rebuild.svg'), `Rebuild throughput over ${total} events vs plain SELECT (same run)`, '/s', [
      { label: 'plain SELECT stream', value: selectPerSec, group: 'baseline' },
      ...Object.entries(results).map(([name, value]) => ({ label: `rebuild ${name}`, value, group: 'projection rebuild' })),
    ]);
  } finally {
    clearInterval(sampler);
    await es.close();
    await dropSchema(schema, URL);
  }
}

async function waitIdle(es: EventStoreHandle, total: number): Promise<void> {
  for (;;) {
    const all = await es.projections.status();
    if (all.every((p) => p.lag === 0 && p.checkpoint >= total && !p.rebuild)) return;
    if (all.some((p) => p.state === 'stopped-on-error')) throw new Error(JSON.stringify(all));
    await new Promise((r) => setTimeout(r, 250));
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
