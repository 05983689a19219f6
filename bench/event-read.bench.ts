/**
 * Read benchmark: `events:verify` (verifyStore) and `readAll`, both with upcast + validate,
 * against a plain keyset SELECT of the same rows (bench/plain-select.ts), all in one run on
 * one PostgreSQL; plus the same passes with class-validator on every event (the decoding
 * before compiled shapes), so before/after is measured side by side too.
 *   npm run bench:read          (EVENTS=100000 ROUNDS=3)
 * Prints figures and ratios, writes <BENCH_OUT or docs/benchmarks>/event-read.{json,svg}.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createEventStore } from '@app/event-store';
import { userEvents } from '../apps/api/src/users/events';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '@app/event-store/testing';
import { benchOutDir, environment } from './bench-env';
import { writeBarChart } from './chart';
import { measureReads, seedMixedLog, waitForHead } from './read-throughput';

const URL = process.env.DATABASE_URL ?? TEST_DATABASE_URL;
const EVENTS = Number(process.env.EVENTS ?? 100_000);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const progress = (s: string) => process.stderr.write(`  ${s}\n`);

async function main(): Promise<void> {
  const schema = uniqueSchema('bench_read');
  const es = await createEventStore({ url: URL, schema, events: userEvents });
  const reference = await createEventStore({ url: URL, schema, events: userEvents, decoding: 'class-validator', runMigrations: false });
  try {
    progress(`seeding ${EVENTS} events (UserRegistered v1/v2, PointsAwarded v1/v2/v3)`);
    await seedMixedLog(es, 0, EVENTS);
    await es.db.query(`VACUUM ANALYZE "${schema}".events`);
    await waitForHead(es, EVENTS);
    const f = await measureReads(es, URL, { rounds: ROUNDS, reference: reference.store });
    const ratios = {
      verifyOverSelect: f.verifyPerSec / f.selectPerSec,
      readAllOverSelect: f.readAllPerSec / f.selectPerSec,
      verifyClassValidatorOverSelect: f.verifyClassValidatorPerSec! / f.selectPerSec,
      readAllClassValidatorOverSelect: f.readAllClassValidatorPerSec! / f.selectPerSec,
    };
    const line = (label: string, value: number, ratio?: number) =>
      console.log(`  ${label.padEnd(44)} ${value.toFixed(0).padStart(9)} /s${ratio === undefined ? '' : `   ${ratio.toFixed(2)}x SELECT`}`);
    console.log(`\nReads over ${f.events} events, medians of ${ROUNDS} interleaved rounds (same machine, same PostgreSQL, same run)`);
    line('plain keyset SELECT (baseline)', f.selectPerSec);
    line('verify, compiled shapes', f.verifyPerSec, ratios.verifyOverSelect);
    line('readAll, compiled shapes', f.readAllPerSec, ratios.readAllOverSelect);
    line('verify, class-validator per event (before)', f.verifyClassValidatorPerSec!, ratios.verifyClassValidatorOverSelect);
    line('readAll, class-validator per event (before)', f.readAllClassValidatorPerSec!, ratios.readAllClassValidatorOverSelect);
    const out = benchOutDir();
    writeFileSync(
      join(out, 'event-read.json'),
      JSON.stringify(
        {
          date: new Date().toISOString(),
          command: 'npm run bench:read',
          ...environment(),
          rounds: ROUNDS,
          ...f,
          ratios,
        },
        null,
        2,
      ) + '\n',
    );
    writeBarChart(join(out, 'event-read.svg'), `Reads with upcast + validate over ${f.events} events vs plain SELECT (same run)`, '/s', [
      { label: 'plain keyset SELECT', value: f.selectPerSec, group: 'baseline' },
      { label: 'verify (class-validator)', value: f.verifyClassValidatorPerSec!, group: 'before' },
      { label: 'readAll (class-validator)', value: f.readAllClassValidatorPerSec!, group: 'before' },
      { label: 'verify (compiled)', value: f.verifyPerSec, group: 'after' },
      { label: 'readAll (compiled)', value: f.readAllPerSec, group: 'after' },
    ]);
  } finally {
    await reference.close();
    await es.close();
    await dropSchema(schema, URL);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
