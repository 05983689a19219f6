import { fork } from 'node:child_process';
import { join } from 'node:path';
import { Client } from 'pg';
import { createEventStore, type EventStoreHandle, type Projection } from '@app/event-store';
import { appEventStore } from '../apps/api/src/app-event-store';
import { mixedLogInsert, type MixedLogStyle } from './read-throughput';

/**
 * The log the read-side benchmarks grow and rebuild (`bench:rebuild`, `bench:cost-curve`):
 * users registered in v1 and v2, awards in v1, v2 and v3 (every upcaster runs), gap-free streams.
 */
const USERS = 5000;
const SEED_CHUNK = 100_000;
export const PROJECTIONS: Projection[] = appEventStore.projections;
const progress = (s: string) => process.stderr.write(`  ${s}\n`);
/** The app's user streams (`user-<uuid>`, which its projections follow), stamped now. */
const NOW = `to_char(now(), 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
const APP_USER_STYLE: MixedLogStyle = { streamId: `'user-' || md5((i % $3)::text)::uuid`, awardedAt: NOW, occurredAt: NOW };

/** What one rebuild in a fresh process measured (`bench/projection-rebuild.bench.ts --child`). */
export interface RebuildFigures {
  projection: string;
  events: number;
  perSec: number;
  /** Peak resident set size of the rebuilding process (getrusage maxrss). */
  peakRssMb: number;
  peakHeapMb: number;
}

/**
 * Appends events [from, to) by plain INSERT, in chunks of 100,000 with progress, then VACUUM ANALYZE;
 * on a session of its own without the store's statement timeout (a chunk into a log of millions on
 * a loaded machine outlasts it).
 */
export async function growTo(es: EventStoreHandle, url: string, from: number, to: number): Promise<void> {
  const seeder = new Client({ connectionString: url, statement_timeout: 0 });
  await seeder.connect();
  try {
    await seedRange(seeder, es.schema, from, to);
  } finally {
    await seeder.end();
  }
  while ((await es.store.headPosition()) < to) await new Promise((r) => setTimeout(r, 100));
}

async function seedRange(seeder: Client, schema: string, from: number, to: number): Promise<void> {
  for (let at = from; at < to; at += SEED_CHUNK) {
    const end = Math.min(to, at + SEED_CHUNK);
    await seeder.query(mixedLogInsert(schema, APP_USER_STYLE), [at, end, USERS]);
    progress(`seeded ${end}/${to} events`);
  }
  await seeder.query(`VACUUM ANALYZE "${schema}".events`);
}

/** Creates the projections' rows and empty v1 tables on the empty log, so each measured run is a version-bump rebuild. */
export async function registerV1(url: string, schema: string): Promise<void> {
  const es = await createEventStore({ url, schema, events: appEventStore.events, projections: PROJECTIONS, projectionPollMs: 20 });
  try {
    await es.projections.start();
    while (!(await es.projections.status()).every((s) => s.activeHere)) await new Promise((r) => setTimeout(r, 20));
  } finally {
    await es.close();
  }
}

/** Deploys `version` of `projection` in a fresh process (the rebuild benchmark's child role) and returns what it measured. */
export function rebuildInFreshProcess(schema: string, projection: string, version: number): Promise<RebuildFigures> {
  return inFreshProcess<RebuildFigures>(join(__dirname, 'projection-rebuild.bench.ts'), '--child', 'rebuild', {
    BENCH_SCHEMA: schema,
    PROJECTION: projection,
    VERSION: String(version),
  });
}

/**
 * Runs `script` with `flag` in a process of its own (so its peak RSS is its own) and answers the
 * last figures it sent; rejects, naming `what`, when it exits without sending any.
 */
export function inFreshProcess<T>(script: string, flag: string, what: string, env: Record<string, string>): Promise<T> {
  const child = fork(script, [flag], { execArgv: ['-r', '@swc-node/register'], env: { ...process.env, ...env } });
  return new Promise((resolve, reject) => {
    let figures: T | undefined;
    child.on('message', (m: T) => (figures = m));
    child.on('exit', (code) => (figures ? resolve(figures) : reject(new Error(`${what} process exited with ${code}`))));
  });
}
