import { Client } from 'pg';
import { eventually } from '../../../../test/eventually';
import type { EventStoreHandle } from '../../src';
import { AppendProbe } from '../../src/testing/append-probes';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '../../src/testing/test-database';
import { FAULT_NAMES, FAULTS, type FaultContext } from './faults';
import { FaultyInstance, LIVE_PROJECTION, openStore } from './instance';
import { projectionViolations, settledHead, streamVersionViolations } from './invariants';
import { AppendLedger } from './ledger';
import { CheckpointSampler, GlobalReader } from './observers';
import { Imports } from './imports';
import { Rng, Writers } from './workload';

/** What one scenario did and what the checks found (empty `violations`: every invariant held). */
export interface ScenarioReport {
  seed: number;
  /** Each fault, and whether it saw its sign (e.g. an append that gave up on the frozen link). */
  faults: Array<{ fault: string; bit: boolean }>;
  ms: number;
  /** Outcomes as callers saw them; `unknownStored`: unknown outcomes that had committed (found by their retry writing nothing). */
  attempts: { acked: number; refused: number; unknown: number; unknownStored: number };
  /** Import files run back to back: lines, what their final runs imported or left out (moved on), and why runs failed. */
  import: ReturnType<Imports['summary']>;
  events: number;
  readerSaw: number;
  checkpointSamples: number;
  /** How long each kill of B took to release its store (links already cut). */
  killCloseMs: number[];
  violations: string[];
}

/** Optional fixed plan (the CI set names its faults); otherwise the seed draws 2 or 3. */
export interface ScenarioPlan {
  seed: number;
  faults?: string[];
}

/**
 * One scenario on a schema of its own: instances A and B (store + projection
 * runner, each behind its own TCP proxy), concurrent single and batch writers,
 * bulk imports back to back, a global reader and a checkpoint sampler on a sound link;
 * the faults run one after another, separated by progress (acked appends),
 * not time. Then everything is healed, unknown writes are retried with their
 * ids, every import is completed, and the invariants are checked.
 */
export async function runScenario(plan: ScenarioPlan): Promise<ScenarioReport> {
  const started = Date.now();
  const rng = new Rng(plan.seed);
  const names = plan.faults ?? Array.from({ length: rng.int(2, 3) }, () => rng.pick(FAULT_NAMES));
  const schema = uniqueSchema('es_faults');
  const a = new FaultyInstance('a', schema);
  const b = new FaultyInstance('b', schema);
  let observer: EventStoreHandle | undefined;
  const side = new Client({ connectionString: TEST_DATABASE_URL, application_name: 'fault-harness' });
  let probe: AppendProbe | undefined;
  try {
    // The observer runs no projection of its own: it reads and checks on a link no fault touches.
    observer = await openStore(TEST_DATABASE_URL, schema, 'observer', 'observer_unused');
    await Promise.all([a.start(), b.start(), side.connect()]);
    probe = await AppendProbe.open(schema);
    const ledger = new AppendLedger();
    const reader = new GlobalReader(observer.store);
    const sampler = new CheckpointSampler(observer.db, schema, LIVE_PROJECTION);
    const writers = new Writers([a, b], ledger, observer.store, rng);
    const imports = new Imports([a, b], rng);
    reader.start();
    sampler.start();
    writers.start(3, 1);
    const progress = (n: number, what: string) =>
      eventually(() => ledger.count('acked') >= n, 20_000, what, { everyMs: 20 }).catch(() => undefined);
    await progress(rng.int(20, 80), 'the first acked appends');
    imports.start();
    const ctx: FaultContext = { a, b, schema, side, probe, ledger, rng, imports };
    const faults: ScenarioReport['faults'] = [];
    for (const fault of names) {
      faults.push({ fault, bit: await FAULTS[fault](ctx) });
      await progress(ledger.count('acked') + rng.int(20, 120), `acked appends after ${fault}`);
    }
    await writers.stop();

    // Heal: links flow again, B is up, unknown writes are retried with their ids, every import completes.
    a.thaw();
    await a.reconnect();
    if (!b.handle) await b.start();
    const violations = [...writers.errors, ...(await ledger.retryUnknown(a.handle!.store))];
    await imports.complete(a.handle!.store);
    const head = await settledHead(observer);
    await reader.finish(head);
    violations.push(...(await projectionViolations(observer, head, a.handle!)));
    await sampler.stop();
    const q = observer.db;
    violations.push(
      ...(await ledger.check(q, schema)),
      ...(await imports.violations(q, schema)),
      ...(await reader.violations(q, schema)),
      ...sampler.violations(),
      ...(await streamVersionViolations(q, schema)),
    );
    // Shutdown is bounded (shutdownTimeoutMs 1 s); 2 s of slack for a busy 2-core machine.
    violations.push(...b.closeMs.filter((ms) => ms > 3_000).map((ms) => `a killed instance took ${ms} ms to close (bound 1000 ms)`));
    const [{ n }] = await q.query<{ n: string }>(`SELECT count(*) AS n FROM "${schema}".events`);
    return {
      seed: plan.seed,
      faults,
      ms: Date.now() - started,
      attempts: { ...ledger.counts() },
      import: imports.summary(),
      events: Number(n),
      readerSaw: reader.seen.length,
      checkpointSamples: sampler.samples.length,
      killCloseMs: b.closeMs,
      violations,
    };
  } finally {
    await Promise.all([a.stop(), b.stop()]).catch(() => undefined);
    await observer?.close();
    await probe?.close();
    await side.end().catch(() => undefined);
    await dropSchema(schema);
  }
}
