/**
 * Flat-memory benchmark: peak RSS of a fresh process that runs `verifyStore` and then `readAll`
 * over the whole log, at SMALL events and again at LARGE events (same log, grown in place).
 * Target: RSS at 1,000,000 events <= 1.2x RSS at 100,000.
 *   npm run bench:memory          (SMALL=100000 LARGE=1000000)
 * Prints figures and the ratio, writes <BENCH_OUT or docs/benchmarks>/read-memory.{json,svg}.
 */
import { fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createEventStore, type EventStoreHandle } from '@app/event-store';
import { userEvents } from '../apps/api/src/users/events';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '@app/event-store/testing';
import { benchOutDir, environment } from './bench-env';
import { writeBarChart } from './chart';
import { readAllCount, seedMixedLog, usersFor, verifyCount, waitForHead } from './read-throughput';

const URL = process.env.DATABASE_URL ?? TEST_DATABASE_URL;
const SMALL = Number(process.env.SMALL ?? 100_000);
const LARGE = Number(process.env.LARGE ?? 1_000_000);
const SEED_CHUNK = 100_000;
const progress = (s: string) => process.stderr.write(`  ${s}\n`);

interface MemoryFigures {
  events: number;
  /** Peak resident set size of the measuring process (getrusage maxrss). */
  peakRssMb: number;
  /** Largest heapUsed sampled every 25 ms during the passes. */
  peakHeapMb: number;
  verifyPerSec: number;
  readAllPerSec: number;
}

/** Child role: open the store, verify and readAll the whole log, report peak memory to the parent. */
async function measureInChild(): Promise<void> {
  const es = await createEventStore({ url: URL, schema: process.env.BENCH_SCHEMA!, events: userEvents, runMigrations: false });
  let peakHeap = 0;
  const sampler = setInterval(() => (peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed)), 25);
  try {
    let t = process.hrtime.bigint();
    const verified = await verifyCount(es.store);
    const verifyPerSec = verified / (Number(process.hrtime.bigint() - t) / 1e9);
    t = process.hrtime.bigint();
    const read = await readAllCount(es.store);
    const readAllPerSec = read / (Number(process.hrtime.bigint() - t) / 1e9);
    const figures: MemoryFigures = {
      events: verified,
      peakRssMb: (process.resourceUsage().maxRSS * 1024) / 1e6,
      peakHeapMb: peakHeap / 1e6,
      verifyPerSec,
      readAllPerSec,
    };
    process.send!(figures);
  } finally {
    clearInterval(sampler);
    await es.close();
  }
}

/** Runs the measurement in a fresh process, so neither size inherits the other's heap. */
function measure(schema: string): Promise<MemoryFigures> {
  const child = fork(__filename, ['--child'], { execArgv: ['-r', '@swc-node/register'], env: { ...process.env, BENCH_SCHEMA: schema } });
  return new Promise((resolve, reject) => {
    let figures: MemoryFigures | undefined;
    child.on('message', (m: MemoryFigures) => (figures = m));
    child.on('exit', (code) => (figures ? resolve(figures) : reject(new Error(`measuring process exited with ${code}`))));
  });
}

async function growTo(es: EventStoreHandle, from: number, to: number): Promise<void> {
  for (let at = from; at < to; at += SEED_CHUNK) {
    await seedMixedLog(es, at, Math.min(to, at + SEED_CHUNK), usersFor(LARGE));
    progress(`seeded ${Math.min(to, at + SEED_CHUNK)}/${to}`);
  }
  await es.db.query(`VACUUM ANALYZE "${es.schema}".events`);
  await waitForHead(es, to);
}

async function main(): Promise<void> {
  const schema = uniqueSchema('bench_memory');
  const es = await createEventStore({ url: URL, schema, events: userEvents });
  try {
    await growTo(es, 0, SMALL);
    progress(`measuring verify + readAll over ${SMALL} events in a fresh process`);
    const small = await measure(schema);
    await growTo(es, SMALL, LARGE);
    progress(`measuring verify + readAll over ${LARGE} events in a fresh process`);
    const large = await measure(schema);
    const rssRatio = large.peakRssMb / small.peakRssMb;
    console.log(`\nMemory of verify + readAll (fresh process each; same log grown from ${SMALL} to ${LARGE} events)`);
    for (const f of [small, large]) {
      console.log(
        `  ${String(f.events).padStart(9)} events: peak RSS ${f.peakRssMb.toFixed(0)} MB, peak heap ${f.peakHeapMb.toFixed(0)} MB, ` +
          `verify ${f.verifyPerSec.toFixed(0)}/s, readAll ${f.readAllPerSec.toFixed(0)}/s`,
      );
    }
    console.log(`  RSS ratio ${LARGE}/${SMALL}: ${rssRatio.toFixed(2)}x (target <= 1.2x)`);
    const out = benchOutDir();
    writeFileSync(
      join(out, 'read-memory.json'),
      JSON.stringify(
        {
          date: new Date().toISOString(),
          command: 'npm run bench:memory',
          ...environment(),
          small,
          large,
          rssRatio,
          target: 1.2,
        },
        null,
        2,
      ) + '\n',
    );
    writeBarChart(join(out, 'read-memory.svg'), `Peak RSS of verify + readAll: ${SMALL} vs ${LARGE} events`, 'MB', [
      { label: `peak RSS, ${SMALL} events`, value: small.peakRssMb, group: 'small log' },
      { label: `peak RSS, ${LARGE} events`, value: large.peakRssMb, group: 'large log' },
      { label: `peak heap, ${SMALL} events`, value: small.peakHeapMb, group: 'small log' },
      { label: `peak heap, ${LARGE} events`, value: large.peakHeapMb, group: 'large log' },
    ]);
  } finally {
    await es.close();
    await dropSchema(schema, URL);
  }
}

(process.argv.includes('--child') ? measureInChild() : main()).catch((e) => {
  console.error(e);
  process.exit(1);
});
