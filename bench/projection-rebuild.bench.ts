/**
 * Projection rebuild benchmark: a full rebuild of each of the app's read
 * models against a plain keyset SELECT of the same rows in the same run, at
 * SMALL and again at LARGE events (the same log, grown in place), with the
 * peak RSS of the rebuilding process at each size (flat memory: target
 * RSS at LARGE <= 1.2x RSS at SMALL).
 *   npm run bench:rebuild       (SMALL=100000 LARGE=1000000; BATCH=… sets the batch size)
 * Each rebuild is a deploy of the next projection version in a fresh process,
 * so no run inherits another's heap and the live model is not applied meanwhile.
 * Prints figures and ratios, writes <BENCH_OUT or docs/benchmarks>/projection-rebuild.{json,svg}.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createEventStore, type EventStoreHandle } from '@app/event-store';
import { appEventStore } from '../apps/api/src/app-event-store';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '@app/event-store/testing';
import { benchOutDir, environment } from './bench-env';
import { writeBarChart } from './chart';
import { plainSelectAll } from './plain-select';
import { growTo, PROJECTIONS, rebuildInFreshProcess, registerV1, type RebuildFigures } from './rebuild-log';

const URL = process.env.DATABASE_URL ?? TEST_DATABASE_URL;
const SMALL = Number(process.env.SMALL ?? 100_000);
const LARGE = Number(process.env.LARGE ?? 1_000_000);
const BATCH = process.env.BATCH ? Number(process.env.BATCH) : undefined;
const progress = (s: string) => process.stderr.write(`  ${s}\n`);

/** Figures at one log size. */
interface SizeFigures {
  events: number;
  selectPerSec: number;
  rebuildPerSec: Record<string, number>;
  ratioToSelect: Record<string, number>;
  peakRssMb: Record<string, number>;
  peakHeapMb: Record<string, number>;
}

/** Child role: deploy version VERSION of PROJECTION, time its rebuild to the switch, report to the parent. */
async function rebuildInChild(): Promise<void> {
  const base = PROJECTIONS.find((p) => p.name === process.env.PROJECTION)!;
  const version = Number(process.env.VERSION);
  const es = await createEventStore({
    url: URL,
    schema: process.env.BENCH_SCHEMA!,
    events: appEventStore.events,
    runMigrations: false,
    projectionBatchSize: BATCH,
    projections: [{ ...base, version }],
  });
  let peakHeap = 0;
  const sampler = setInterval(() => (peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed)), 25);
  try {
    const head = await es.store.headPosition();
    const t = process.hrtime.bigint();
    await es.projections.start();
    for (let lastLog = 0; ;) {
      await new Promise((r) => setTimeout(r, 20));
      const [s] = await es.projections.status();
      if (s.state === 'stopped-on-error' || s.state === 'rebuild-stopped-on-error') throw new Error(JSON.stringify(s));
      if (s.version === version && !s.rebuild) break;
      if (s.rebuild?.position && Date.now() - lastLog > 2000) {
        lastLog = Date.now();
        const { percent, eventsPerSecond, etaSeconds } = s.rebuild;
        progress(`${base.name} v${version}: ${percent}%  ${eventsPerSecond} events/s  ETA ${etaSeconds ?? '?'} s`);
      }
    }
    const seconds = Number(process.hrtime.bigint() - t) / 1e9;
    const figures: RebuildFigures = {
      projection: base.name,
      events: head,
      perSec: head / seconds,
      peakRssMb: (process.resourceUsage().maxRSS * 1024) / 1e6,
      peakHeapMb: peakHeap / 1e6,
    };
    process.send!(figures);
  } finally {
    clearInterval(sampler);
    await es.close();
  }
}

async function measureSize(es: EventStoreHandle, version: number): Promise<SizeFigures> {
  const events = await es.store.headPosition();
  progress(`baseline: plain keyset SELECT of the ${events} rows (batches of 500)`);
  const t = process.hrtime.bigint();
  const selected = await plainSelectAll(URL, es.schema, 500);
  const selectPerSec = selected / (Number(process.hrtime.bigint() - t) / 1e9);
  const figures: SizeFigures = { events, selectPerSec, rebuildPerSec: {}, ratioToSelect: {}, peakRssMb: {}, peakHeapMb: {} };
  for (const { name } of PROJECTIONS) {
    progress(`rebuild ${name} to v${version} over ${events} events in a fresh process`);
    const r = await rebuildInFreshProcess(es.schema, name, version);
    figures.rebuildPerSec[name] = r.perSec;
    figures.ratioToSelect[name] = r.perSec / selectPerSec;
    figures.peakRssMb[name] = r.peakRssMb;
    figures.peakHeapMb[name] = r.peakHeapMb;
  }
  return figures;
}

function report(small: SizeFigures, large: SizeFigures, rssRatio: Record<string, number>): void {
  for (const f of [small, large]) {
    console.log(`\nProjection rebuild over ${f.events} events (same machine, same PostgreSQL, same run)`);
    console.log(`  plain keyset SELECT (baseline):  ${f.selectPerSec.toFixed(0)} rows/s`);
    for (const name of Object.keys(f.rebuildPerSec)) {
      console.log(
        `  rebuild ${name.padEnd(15)}        ${f.rebuildPerSec[name].toFixed(0)} events/s   ` +
          `ratio to SELECT ${f.ratioToSelect[name].toFixed(3)} (target >= 0.35)   ` +
          `peak RSS ${f.peakRssMb[name].toFixed(0)} MB, heap ${f.peakHeapMb[name].toFixed(0)} MB`,
      );
    }
  }
  for (const [name, ratio] of Object.entries(rssRatio)) {
    console.log(`  RSS ratio ${large.events}/${small.events} events, ${name}: ${ratio.toFixed(2)}x (target <= 1.2x)`);
  }
}

/** JSON with both sizes, a throughput chart and a memory chart, into BENCH_OUT (the smoke test's) or docs/benchmarks. */
function write(small: SizeFigures, large: SizeFigures, rssRatio: Record<string, number>): void {
  const out = benchOutDir();
  writeFileSync(
    join(out, 'projection-rebuild.json'),
    JSON.stringify(
      {
        date: new Date().toISOString(),
        command: 'npm run bench:rebuild',
        ...environment(),
        batchSize: BATCH ?? 2000,
        // Top-level figures are the large run's, under the field names earlier runs used.
        events: large.events,
        selectPerSec: large.selectPerSec,
        rebuildPerSec: large.rebuildPerSec,
        peakRssMb: Math.max(...Object.values(large.peakRssMb)),
        peakHeapMb: Math.max(...Object.values(large.peakHeapMb)),
        small,
        large,
        rssRatio,
        targets: { ratioToSelect: 0.35, rssRatio: 1.2 },
      },
      null,
      2,
    ) + '\n',
  );
  const sizes = `${small.events} and ${large.events} events`;
  writeBarChart(
    join(out, 'projection-rebuild.svg'),
    `Rebuild throughput vs plain SELECT (same run): ${sizes}`,
    '/s',
    [small, large].flatMap((f) => [
      { label: `plain SELECT, ${f.events} events`, value: f.selectPerSec, group: 'baseline' },
      ...Object.entries(f.rebuildPerSec).map(([name, value]) => ({ label: `${name}, ${f.events} events`, value, group: 'rebuild' })),
    ]),
  );
  writeBarChart(
    join(out, 'projection-rebuild-memory.svg'),
    `Peak RSS of the rebuilding process: ${sizes}`,
    'MB',
    [small, large].flatMap((f) =>
      Object.entries(f.peakRssMb).map(([name, value]) => ({ label: `${name}, ${f.events} events`, value, group: `${f.events} events` })),
    ),
  );
}

async function main(): Promise<void> {
  const schema = uniqueSchema('bench_rebuild');
  const es = await createEventStore({ url: URL, schema, events: appEventStore.events });
  try {
    await registerV1(URL, schema);
    await growTo(es, URL, 0, SMALL);
    const small = await measureSize(es, 2);
    await growTo(es, URL, SMALL, LARGE);
    const large = await measureSize(es, 3);
    const rssRatio = Object.fromEntries(PROJECTIONS.map(({ name }) => [name, large.peakRssMb[name] / small.peakRssMb[name]]));
    report(small, large, rssRatio);
    write(small, large, rssRatio);
  } finally {
    await es.close();
    await dropSchema(schema, URL);
  }
}

(process.argv.includes('--child') ? rebuildInChild() : main()).catch((e) => {
  console.error(e);
  process.exit(1);
});
