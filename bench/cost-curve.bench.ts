/**
 * The cost curve: how each cost of the event store grows with the log. One log
 * grows through SMALL, 10 x SMALL, ... up to LARGE events; at each size:
 * verify and each projection's rebuild (each in a fresh process, with its
 * peak RSS) against a plain keyset SELECT of the same rows, single appends
 * against plain INSERT transactions into the same table, and batch appends.
 *   npm run bench:cost-curve                  (SMALL=100000 LARGE=1000000)
 *   LARGE=10000000 npm run bench:cost-curve   (the documented large run; not in CI: about 4 GB of disk)
 *   CLIENTS=16 APPENDS=2000 ROUNDS=3 BATCH_EVENTS=20000 APPEND_BATCH=1000 (BATCH sets the rebuilds' batch size)
 * Progress goes to stderr; figures, ratios and the load average to stdout; writes
 * <BENCH_OUT or docs/benchmarks>/cost-curve.{json,svg}. The log is a schema of
 * its own, dropped at the end (the schema's name is printed first, to drop by hand after a kill).
 */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { createEventStore } from '@app/event-store';
import { verifyStore } from '@app/event-store/tools';
import { appEventStore } from '../apps/api/src/app-event-store';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '@app/event-store/testing';
import { benchOutDir, environment } from './bench-env';
import { writeBarChart } from './chart';
import { measureWrites, type WriteFigures } from './cost-curve-writes';
import { timed } from './event-store-writes';
import { plainSelectAll } from './plain-select';
import { growTo, inFreshProcess, PROJECTIONS, rebuildInFreshProcess, registerV1 } from './rebuild-log';

const URL = process.env.DATABASE_URL ?? TEST_DATABASE_URL;
const SMALL = Number(process.env.SMALL ?? 100_000);
const LARGE = Number(process.env.LARGE ?? 1_000_000);
const WRITES = {
  clients: Number(process.env.CLIENTS ?? 16),
  appends: Number(process.env.APPENDS ?? 2000),
  rounds: Number(process.env.ROUNDS ?? 3),
  batchEvents: Number(process.env.BATCH_EVENTS ?? 20_000),
  batch: Number(process.env.APPEND_BATCH ?? 1000),
};
const progress = (s: string) => process.stderr.write(`  [${new Date().toISOString().slice(11, 19)}] ${s}\n`);

/** What was measured at one size of the log. */
interface SizeFigures extends WriteFigures {
  events: number;
  selectPerSec: number;
  verifyPerSec: number;
  verifyOverSelect: number;
  rebuildPerSec: Record<string, number>;
  rebuildOverSelect: Record<string, number>;
  /** Peak RSS of each measured process: `verify`, and each projection's rebuild. */
  peakRssMb: Record<string, number>;
  /** 1-minute load average when the size was done. */
  load: number;
}

/** Child role: verify the whole log once, report events/s and peak RSS. */
async function verifyInChild(): Promise<void> {
  const es = await createEventStore({ url: URL, schema: process.env.BENCH_SCHEMA!, events: appEventStore.events, runMigrations: false });
  try {
    const head = await es.store.headPosition();
    const { ms, result } = await timed(() =>
      verifyStore(es.store, {
        batchSize: 2000,
        progressEvery: 250_000,
        onProgress: (p) => progress(`verify ${p.checked}/${head} (${p.eventsPerSecond} events/s)`),
      }),
    );
    if (result.failureCount) throw new Error(`verify found ${result.failureCount} failures`);
    process.send!({ perSec: result.checked / (ms / 1000), peakRssMb: (process.resourceUsage().maxRSS * 1024) / 1e6 });
  } finally {
    await es.close();
  }
}

function verifyInFreshProcess(schema: string): Promise<{ perSec: number; peakRssMb: number }> {
  return inFreshProcess(__filename, '--verify-child', 'verify', { BENCH_SCHEMA: schema });
}

async function measureSize(schema: string, version: number, writes: () => Promise<WriteFigures>): Promise<SizeFigures> {
  const es = await createEventStore({ url: URL, schema, events: appEventStore.events, runMigrations: false, poolSize: 2 });
  const events = await es.store.headPosition().finally(() => es.close());
  progress(`${events} events: plain keyset SELECT of every row (batches of 2000)`);
  const select = await timed(() => plainSelectAll(URL, schema, 2000));
  const selectPerSec = select.result / (select.ms / 1000);
  progress(`${events} events: verify in a fresh process`);
  const verify = await verifyInFreshProcess(schema);
  const figures = { events, selectPerSec, verifyPerSec: verify.perSec, verifyOverSelect: verify.perSec / selectPerSec };
  const rebuildPerSec: Record<string, number> = {};
  const rebuildOverSelect: Record<string, number> = {};
  const peakRssMb: Record<string, number> = { verify: verify.peakRssMb };
  for (const { name } of PROJECTIONS) {
    progress(`${events} events: rebuild ${name} to v${version} in a fresh process`);
    const r = await rebuildInFreshProcess(schema, name, version);
    rebuildPerSec[name] = r.perSec;
    rebuildOverSelect[name] = r.perSec / selectPerSec;
    peakRssMb[`rebuild ${name}`] = r.peakRssMb;
  }
  progress(`${events} events: single and batch appends`);
  return { ...figures, rebuildPerSec, rebuildOverSelect, peakRssMb, ...(await writes()), load: loadavg()[0] };
}

/** SMALL, 10 x SMALL, ... below LARGE, then LARGE. */
export function sizesUpTo(small: number, large: number): number[] {
  const sizes: number[] = [];
  for (let n = small; n < large; n *= 10) sizes.push(n);
  return [...sizes, large];
}

function report(sizes: SizeFigures[]): void {
  const x = (n: number) => `${n.toFixed(2)}x`;
  console.log('\nCost curve (same machine, same PostgreSQL; each ratio against its baseline at the same size, same run)');
  for (const f of sizes) {
    console.log(`\n  ${f.events} events (load average ${f.load.toFixed(1)})`);
    console.log(
      `    plain SELECT ${f.selectPerSec.toFixed(0)} rows/s; verify ${f.verifyPerSec.toFixed(0)} /s: ${x(f.verifyOverSelect)} (>= 0.5)`,
    );
    for (const name of Object.keys(f.rebuildPerSec)) {
      console.log(`    rebuild ${name} ${f.rebuildPerSec[name].toFixed(0)} /s: ${x(f.rebuildOverSelect[name])} (>= 0.35)`);
    }
    console.log(
      `    single appends ${f.appendPerSec.toFixed(0)} /s vs plain INSERT ${f.plainInsertPerSec.toFixed(0)} /s: ` +
        `${x(f.appendOverInsert)} (>= 0.85); batch appends ${f.batchAppendPerSec.toFixed(0)} events/s`,
    );
    console.log(
      `    peak RSS: ${Object.entries(f.peakRssMb)
        .map(([k, v]) => `${k} ${v.toFixed(0)} MB`)
        .join(', ')}`,
    );
  }
}

function write(sizes: SizeFigures[]): void {
  const out = benchOutDir();
  const json = {
    date: new Date().toISOString(),
    command: `LARGE=${LARGE} npm run bench:cost-curve`,
    ...environment(),
    writes: WRITES,
    sizes,
  };
  writeFileSync(join(out, 'cost-curve.json'), JSON.stringify(json, null, 2) + '\n');
  const label = (n: number) => (n >= 1e6 ? `${n / 1e6}M` : n >= 1e3 ? `${n / 1e3}k` : String(n));
  writeBarChart(
    join(out, 'cost-curve.svg'),
    `Cost vs baseline as the log grows (same-run ratios): ${sizes.map((s) => label(s.events)).join(', ')} events`,
    'x',
    sizes.flatMap((f) => [
      { label: `verify / SELECT, ${label(f.events)}`, value: f.verifyOverSelect, group: `${label(f.events)} events` },
      ...Object.entries(f.rebuildOverSelect).map(([name, value]) => ({
        label: `rebuild ${name} / SELECT, ${label(f.events)}`,
        value,
        group: `${label(f.events)} events`,
      })),
      { label: `append / INSERT, ${label(f.events)}`, value: f.appendOverInsert, group: `${label(f.events)} events` },
    ]),
  );
}

async function main(): Promise<void> {
  const schema = uniqueSchema('bench_curve');
  progress(`log in schema "${schema}" of ${URL} (after a kill: DROP SCHEMA "${schema}" CASCADE)`);
  const es = await createEventStore({ url: URL, schema, events: appEventStore.events, poolSize: WRITES.clients + 2 });
  try {
    await registerV1(URL, schema);
    const sizes: SizeFigures[] = [];
    let seeded = 0;
    for (const [k, size] of sizesUpTo(SMALL, LARGE).entries()) {
      await growTo(es, URL, seeded, size);
      seeded = size;
      sizes.push(await measureSize(schema, k + 2, () => measureWrites(es, WRITES)));
      write(sizes);
    }
    report(sizes);
  } finally {
    await es.close();
    await dropSchema(schema, URL);
  }
}

(process.argv.includes('--verify-child') ? verifyInChild() : main()).catch((e) => {
  console.error(e);
  process.exit(1);
});
