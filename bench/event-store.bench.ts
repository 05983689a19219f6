/**
 * Event store benchmark: append and verify throughput, each against a
 * baseline measured in the same run on the same PostgreSQL.
 *   npm run bench:event-store            (EVENTS=100000 CLIENTS=16 APPENDS=4000)
 * Prints figures and ratios, writes <BENCH_OUT or docs/benchmarks>/event-store.{json,svg}.
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createEventStore, verifyStore } from '@app/event-store';
import { userEvents } from '../apps/api/src/users/events';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '../libs/event-store/src/testing/test-database';
import { benchOutDir } from './bench-env';
import { writeBarChart } from './chart';
import { plainSelectAll } from './plain-select';

const URL = process.env.DATABASE_URL ?? TEST_DATABASE_URL;
const EVENTS = Number(process.env.EVENTS ?? 100_000);
const CLIENTS = Number(process.env.CLIENTS ?? 16);
const APPENDS = Number(process.env.APPENDS ?? 4000);
const progress = (s: string) => process.stderr.write(`  ${s}\n`);

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; result: T }> {
  const t = process.hrtime.bigint();
  const result = await work();
  return { ms: Number(process.hrtime.bigint() - t) / 1e6, result };
}

/** Runs `total` operations from `clients` concurrent loops. */
async function concurrently(total: number, clients: number, op: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: clients }, async () => {
    for (let i = next++; i < total; i = next++) await op(i);
  }));
}

async function main(): Promise<void> {
  const schema = uniqueSchema('bench');
  const es = await createEventStore({ url: URL, schema, events: userEvents, poolSize: CLIENTS + 2 });
  const results: Record<string, number> = {};
  try {
    // Baseline for appends: the same rows, one INSERT per transaction, no checks, no locks.
    await es.dataSource.query(`CREATE TABLE "${schema}".plain_events (LIKE "${schema}".events INCLUDING ALL)`);
    const payload = (i: number) => ({ points: 1 + (i % 50), reason: 'bench', awardedAt: new Date().toISOString() });
    progress(`baseline: ${APPENDS} plain INSERT transactions from ${CLIENTS} clients`);
    const plain = await timed(() => concurrently(APPENDS, CLIENTS, (i) => es.store.inTransaction((q) =>
      q.query(`INSERT INTO "${schema}".plain_events (event_id, stream_id, stream_version, type, schema_version, data)
               VALUES ($1, $2, 1, 'PointsAwarded', 3, $3)`, [randomUUID(), `p-${i}`, JSON.stringify(payload(i))]))));
    progress(`event store: ${APPENDS} appendToStream calls (one event, expected version) from ${CLIENTS} clients`);
    const appended = await timed(() => concurrently(APPENDS, CLIENTS, (i) =>
      es.store.appendToStream(`user-${i % (CLIENTS * 4)}`, [{ type: 'PointsAwarded', schemaVersion: 3, data: payload(i) }])));
    results.plainInsertPerSec = APPENDS / (plain.ms / 1000);
    results.appendPerSec = APPENDS / (appended.ms / 1000);

    progress(`seeding ${EVENTS} events (UserRegistered v1/v2, PointsAwarded v1/v2/v3) for verify`);
    await es.dataSource.query(
      `INSERT INTO "${schema}".events (event_id, stream_id, stream_version, type, schema_version, data, metadata)
       SELECT gen_random_uuid(), 'seed-' || (i % 5000), (i / 5000) + 1,
              CASE WHEN i < 5000 THEN 'UserRegistered' ELSE 'PointsAwarded' END,
              CASE WHEN i < 5000 THEN 1 + i % 2 ELSE 1 + i % 3 END,
              CASE WHEN i < 5000 AND i % 2 = 0 THEN jsonb_build_object('fullName', 'Jean Claude ' || i, 'email', 'u' || i || '@example.com')
                   WHEN i < 5000 THEN jsonb_build_object('firstName', 'Ada', 'lastName', 'L' || i, 'email', 'u' || i || '@example.com')
                   WHEN i % 3 = 0 THEN jsonb_build_object('amount', 1 + i % 9)
                   WHEN i % 3 = 1 THEN jsonb_build_object('points', 1 + i % 9, 'reason', 'r')
                   ELSE jsonb_build_object('points', 1 + i % 9, 'reason', 'r', 'awardedAt', '2025-01-01T00:00:00.000Z') END,
              jsonb_build_object('occurredAt', '2024-06-01T00:00:00.000Z')
         FROM generate_series(0, $1 - 1) AS i`, [EVENTS]);
    const total = Number((await es.dataSource.query(`SELECT count(*) AS n FROM "${schema}".events`))[0].n);

    progress(`baseline: plain SELECT of all ${total} rows in keyset batches of 2000 (no upcasting)`);
    const select = await timed(() => plainSelectAll(URL, schema, 2000));
    progress(`verify: ${total} events through upcasters + validators`);
    const verified = await timed(() => verifyStore(es.store, {
      progressEvery: 25_000, onProgress: (p) => progress(`verify ${p.checked}/${total} (${p.eventsPerSecond} events/s)`),
    }));
    if (verified.result.failureCount !== 0) throw new Error(`verify found ${verified.result.failureCount} failures`);
    results.selectPerSec = select.result / (select.ms / 1000);
    results.verifyPerSec = verified.result.checked / (verified.ms / 1000);
    results.events = total;

    const ratio = (a: number, b: number) => (a / b).toFixed(2);
    console.log('\nEvent store benchmark (same machine, same PostgreSQL, same run)');
    console.log(`  appends (1 event, ${CLIENTS} clients):   ${results.appendPerSec.toFixed(0)} /s`);
    console.log(`  baseline plain INSERT transactions:      ${results.plainInsertPerSec.toFixed(0)} /s   ratio ${ratio(results.appendPerSec, results.plainInsertPerSec)}`);
    console.log(`  verify (${total} events, upcast+validate): ${results.verifyPerSec.toFixed(0)} events/s`);
    console.log(`  baseline plain SELECT of the same rows:  ${results.selectPerSec.toFixed(0)} rows/s   ratio ${ratio(results.verifyPerSec, results.selectPerSec)}`);
    const out = benchOutDir();
    writeFileSync(join(out, 'event-store.json'), JSON.stringify({ date: new Date().toISOString(), clients: CLIENTS, appends: APPENDS, ...results }, null, 2) + '\n');
    writeBarChart(join(out, 'event-store.svg'), 'Event store throughput vs baselines (same run)', '/s', [
      { label: 'plain INSERT txns', value: results.plainInsertPerSec, group: 'baseline' },
      { label: 'appendToStream', value: results.appendPerSec, group: 'event store' },
      { label: 'plain SELECT rows', value: results.selectPerSec, group: 'baseline' },
      { label: 'verify (upcast+validate)', value: results.verifyPerSec, group: 'event store' },
    ]);
  } finally {
    await es.close();
    await dropSchema(schema, URL);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
