/**
 * Event store benchmark: writes (single and batch appends, import) and verify
 * throughput, each against a baseline measured in the same run on the same PostgreSQL.
 *   npm run bench:event-store
 *     EVENTS=100000 (verify)  CLIENTS=16 APPENDS=4000 ROUNDS=5 (single appends: median of ROUNDS interleaved runs)
 *     BULK=100000 BULK_ROUNDS=3 BATCH=1000 BATCH_STREAMS=50 (import, batch appends and the raw COPY baseline, medians)
 * then one more import and batch-append run with each statement timed: the share of each step.
 * Prints figures and ratios, writes <BENCH_OUT or docs/benchmarks>/event-store.{json,svg}.
 */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { createEventStore } from '@app/event-store';
import { verifyStore } from '@app/event-store/tools';
import { userEvents } from '../apps/api/src/users/events';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '@app/event-store/testing';
import { benchOutDir } from './bench-env';
import { writeBarChart } from './chart';
import { batchAppends, bulkHistory, bulkImport, rawCopy, singleAppends, timed } from './event-store-writes';
import { median } from './measure';
import { measureSteps, printSteps } from './import-steps';
import { plainSelectAll } from './plain-select';

const URL = process.env.DATABASE_URL ?? TEST_DATABASE_URL;
const EVENTS = Number(process.env.EVENTS ?? 100_000);
const CLIENTS = Number(process.env.CLIENTS ?? 16);
const APPENDS = Number(process.env.APPENDS ?? 4000);
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const BULK = Number(process.env.BULK ?? 100_000);
const BULK_ROUNDS = Number(process.env.BULK_ROUNDS ?? 3);
const BATCH = Number(process.env.BATCH ?? 1000);
// At most MAX_STREAMS_PER_BATCH (50): a batch's stream locks are bounded.
const BATCH_STREAMS = Number(process.env.BATCH_STREAMS ?? 50);
const progress = (s: string) => process.stderr.write(`  ${s}\n`);

/** Single appends vs INSERT (median of ROUNDS), then import and batch appends vs raw COPY (medians of BULK_ROUNDS). */
async function measureWrites(results: Record<string, number>) {
  const schema = uniqueSchema('bench_writes');
  const es = await createEventStore({ url: URL, schema, events: userEvents, poolSize: CLIENTS + 2 });
  try {
    const single = await singleAppends(es, schema, CLIENTS, APPENDS, ROUNDS);
    results.plainInsertPerSec = median(single.plain);
    results.appendPerSec = median(single.appended);
    // Each round runs both back to back, so its ratio pairs them under the same load: the median of those is the figure.
    results.appendOverInsertMedianOfRounds = median(single.appended.map((a, i) => a / single.plain[i]));
    const copy: number[] = [];
    const imported: number[] = [];
    const batched: number[] = [];
    for (let r = 1; r <= BULK_ROUNDS; r++) {
      progress(
        `round ${r}/${BULK_ROUNDS}: ${BULK} events by raw COPY, importLines and appendToStreams ` +
          `(${BATCH} per call over ${BATCH_STREAMS} streams)`,
      );
      copy.push(await rawCopy(URL, schema, bulkHistory(BULK, 1000), r));
      imported.push(await bulkImport(es, bulkHistory(BULK, 1000)));
      batched.push(await batchAppends(es, bulkHistory(BULK, BATCH_STREAMS), BATCH));
    }
    results.copyPerSec = median(copy);
    results.importPerSec = median(imported);
    results.batchAppendPerSec = median(batched);
    progress(`step by step: one more import and batch-append run of ${BULK} events, every statement timed`);
    const steps = await measureSteps(es, URL, schema, BULK, BATCH);
    return { single, copy, imported, batched, steps };
  } finally {
    await es.close();
    await dropSchema(schema, URL);
  }
}

async function main(): Promise<void> {
  const results: Record<string, number> = {};
  // Writes go to a log of their own, so the verify log below holds exactly EVENTS events.
  const writes = await measureWrites(results);
  const schema = uniqueSchema('bench');
  const es = await createEventStore({ url: URL, schema, events: userEvents, poolSize: 4 });
  try {
    progress(`seeding ${EVENTS} events (UserRegistered v1/v2, PointsAwarded v1/v2/v3) for verify`);
    await es.db.query(
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
         FROM generate_series(0, $1 - 1) AS i`,
      [EVENTS],
    );
    // As after an import (which analyzes the log): without statistics the planner reads the rest of the log per batch.
    await es.db.query(`ANALYZE "${schema}".events`);
    const total = Number((await es.db.query<{ n: string }>(`SELECT count(*) AS n FROM "${schema}".events`))[0].n);

    progress(`baseline: plain SELECT of all ${total} rows in keyset batches of 2000 (no upcasting)`);
    const select = await timed(() => plainSelectAll(URL, schema, 2000));
    progress(`verify: a warm-up pass, then ${total} events through upcasters + validators (as bench:read measures it)`);
    await verifyStore(es.store, { batchSize: 2000 });
    const verified = await timed(() =>
      verifyStore(es.store, {
        batchSize: 2000,
        progressEvery: 25_000,
        onProgress: (p) => progress(`verify ${p.checked}/${total} (${p.eventsPerSecond} events/s)`),
      }),
    );
    if (verified.result.failureCount !== 0) throw new Error(`verify found ${verified.result.failureCount} failures`);
    results.selectPerSec = select.result / (select.ms / 1000);
    results.verifyPerSec = verified.result.checked / (verified.ms / 1000);
    results.events = total;

    const ratio = (a: number, b: number) => (a / b).toFixed(2);
    const runs = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(', ');
    console.log('\nEvent store benchmark (same machine, same PostgreSQL, same run)');
    console.log(
      `  appends (1 event, ${CLIENTS} clients, median of ${ROUNDS}): ${results.appendPerSec.toFixed(0)} /s   ` +
        `runs: ${runs(writes.single.appended)}`,
    );
    console.log(
      `  baseline plain INSERT transactions:      ${results.plainInsertPerSec.toFixed(0)} /s   runs: ${runs(writes.single.plain)}`,
    );
    console.log(
      `    ratio ${results.appendOverInsertMedianOfRounds.toFixed(2)} (median of the same-round ratios: ` +
        `${writes.single.appended.map((a, i) => ratio(a, writes.single.plain[i])).join(', ')}; ratio of the medians ` +
        `${ratio(results.appendPerSec, results.plainInsertPerSec)})`,
    );
    console.log(
      `  import (${BULK} events, median of ${BULK_ROUNDS}):  ${results.importPerSec.toFixed(0)} events/s   ` +
        `ratio to COPY ${ratio(results.importPerSec, results.copyPerSec)}`,
    );
    console.log(
      `  batch appends (${BATCH} per call, ${BATCH_STREAMS} streams, 1 client): ${results.batchAppendPerSec.toFixed(0)} events/s   ` +
        `ratio to COPY ${ratio(results.batchAppendPerSec, results.copyPerSec)}`,
    );
    console.log(`  baseline raw COPY into a LIKE table:     ${results.copyPerSec.toFixed(0)} rows/s   runs: ${runs(writes.copy)}`);
    console.log(
      `    same-round ratios: import ${writes.imported.map((x, i) => ratio(x, writes.copy[i])).join(', ')}; ` +
        `batch appends ${writes.batched.map((x, i) => ratio(x, writes.copy[i])).join(', ')}`,
    );
    printSteps(writes.steps);
    console.log(`  verify (${total} events, upcast+validate): ${results.verifyPerSec.toFixed(0)} events/s`);
    console.log(
      `  baseline plain SELECT of the same rows:  ${results.selectPerSec.toFixed(0)} rows/s   ` +
        `ratio ${ratio(results.verifyPerSec, results.selectPerSec)}`,
    );
    const out = benchOutDir();
    writeFileSync(
      join(out, 'event-store.json'),
      JSON.stringify(
        {
          date: new Date().toISOString(),
          clients: CLIENTS,
          appends: APPENDS,
          rounds: ROUNDS,
          bulkEvents: BULK,
          batchSize: BATCH,
          batchStreams: BATCH_STREAMS,
          loadAverage: loadavg()[0],
          ...results,
          steps: writes.steps,
        },
        null,
        2,
      ) + '\n',
    );
    writeBarChart(join(out, 'event-store.svg'), 'Event store throughput vs baselines (same run)', '/s', [
      { label: 'plain INSERT txns', value: results.plainInsertPerSec, group: 'baseline' },
      { label: 'appendToStream', value: results.appendPerSec, group: 'event store' },
      { label: 'raw COPY rows', value: results.copyPerSec, group: 'baseline' },
      { label: 'importLines', value: results.importPerSec, group: 'event store' },
      { label: `appendToStreams (${BATCH}/call)`, value: results.batchAppendPerSec, group: 'event store' },
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
