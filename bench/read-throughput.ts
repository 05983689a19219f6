import type { EventStore, EventStoreHandle } from '@app/event-store';
import { verifyStore } from '@app/event-store/tools';
import { median } from './measure';
import { plainSelectAll } from './plain-select';

const progress = (s: string) => process.stderr.write(`  ${s}\n`);

/** How a seeded log names its streams and stamps its times: the read benchmarks' fixed ones, or the app's user streams at now(). */
export interface MixedLogStyle {
  /** SQL of a stream id from `i % users`. */
  streamId: string;
  /** SQL of an ISO timestamp for `awardedAt` and `occurredAt`. */
  awardedAt: string;
  occurredAt: string;
}

const READ_BENCH_STYLE: MixedLogStyle = {
  streamId: `'seed-' || (i % $3)`,
  awardedAt: `'2025-01-01T00:00:00.000Z'`,
  occurredAt: `'2024-06-01T00:00:00.000Z'`,
};

/**
 * The INSERT of positions [$1, $2) with the benchmarks' mix over $3 users: UserRegistered streams
 * (v1/v2), then PointsAwarded v1/v2/v3 on them. Stream versions stay gap-free, so seeding in steps
 * with the same users gives the same log as seeding once.
 */
export function mixedLogInsert(schema: string, style: MixedLogStyle = READ_BENCH_STYLE): string {
  return `INSERT INTO "${schema}".events (event_id, stream_id, stream_version, type, schema_version, data, metadata)
     SELECT gen_random_uuid(), ${style.streamId}, (i / $3) + 1,
            CASE WHEN i < $3 THEN 'UserRegistered' ELSE 'PointsAwarded' END,
            CASE WHEN i < $3 THEN 1 + i % 2 ELSE 1 + i % 3 END,
            CASE WHEN i < $3 AND i % 2 = 0 THEN jsonb_build_object('fullName', 'Jean Claude ' || i, 'email', 'u' || i || '@example.com')
                 WHEN i < $3 THEN jsonb_build_object('firstName', 'Ada', 'lastName', 'L' || i, 'email', 'u' || i || '@example.com')
                 WHEN i % 3 = 0 THEN jsonb_build_object('amount', 1 + i % 9)
                 WHEN i % 3 = 1 THEN jsonb_build_object('points', 1 + i % 9, 'reason', 'r')
                 ELSE jsonb_build_object('points', 1 + i % 9, 'reason', 'r', 'awardedAt', ${style.awardedAt}) END,
            jsonb_build_object('occurredAt', ${style.occurredAt})
       FROM generate_series($1::bigint, $2::bigint - 1) AS i`;
}

/** Seeds positions [from, to) of `mixedLogInsert` (the read benchmarks' style) through the store. */
export async function seedMixedLog(es: EventStoreHandle, from: number, to: number, users = usersFor(to)): Promise<void> {
  await es.db.query(mixedLogInsert(es.schema), [from, to, users]);
}

/** 5,000 users, fewer for tiny logs so that they still hold every version of both types. */
export const usersFor = (events: number) => Math.min(5000, Math.max(1, Math.ceil(events / 20)));

/**
 * Waits until global readers see `count` events. The head stops below any transaction still
 * open anywhere in the cluster (ADR 0002), and other test runs share this PostgreSQL.
 */
export async function waitForHead(es: EventStoreHandle, count: number, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let said = false; ; said = true) {
    const [{ n }] = await es.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${es.schema}".events WHERE position <= $1`, [
      await es.store.headPosition(),
    ]);
    if (n >= count) return;
    if (Date.now() > deadline) throw new Error(`only ${n}/${count} events visible after ${timeoutMs} ms: a transaction is held open`);
    if (!said) progress(`waiting for an open transaction elsewhere on this PostgreSQL to end (${n}/${count} events visible)`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Rows or events per second of one timed pass. */
async function rate(work: () => Promise<number>): Promise<number> {
  const started = process.hrtime.bigint();
  const n = await work();
  return n / (Number(process.hrtime.bigint() - started) / 1e9);
}

/** Every event of the log through `readAll` (upcast + validate + instantiate), counted. */
export async function readAllCount(store: EventStore): Promise<number> {
  let n = 0;
  for await (const _event of store.readAll({ batchSize: 2000 })) n++;
  return n;
}

/** `verifyStore` over the whole log; throws unless every event verifies. */
export async function verifyCount(store: EventStore): Promise<number> {
  const report = await verifyStore(store, { batchSize: 2000 });
  if (report.failureCount !== 0) throw new Error(`verify found ${report.failureCount} failures: ${JSON.stringify(report.failures[0])}`);
  return report.checked;
}

export interface ReadFigures {
  events: number;
  selectPerSec: number;
  verifyPerSec: number;
  readAllPerSec: number;
  /** The same passes through plainToInstance + validateSync per event (the decoding before compiled shapes). */
  verifyClassValidatorPerSec?: number;
  readAllClassValidatorPerSec?: number;
}

/**
 * Plain keyset SELECT (the baseline, bench/plain-select.ts), verify and readAll over the same
 * rows, interleaved for `rounds` rounds so a noisy neighbour hits every pass alike; medians.
 * With `reference`, the same passes through a store decoding with class-validator on every event.
 */
export async function measureReads(
  es: EventStoreHandle,
  url: string,
  options: { rounds?: number; reference?: EventStore } = {},
): Promise<ReadFigures> {
  const rounds = options.rounds ?? 3;
  const runs: Record<string, number[]> = {};
  const passes: Array<[string, () => Promise<number>]> = [
    ['selectPerSec', () => plainSelectAll(url, es.schema, 2000)],
    ['verifyPerSec', () => verifyCount(es.store)],
    ['readAllPerSec', () => readAllCount(es.store)],
  ];
  const reference = options.reference;
  if (reference) {
    passes.push(
      ['verifyClassValidatorPerSec', () => verifyCount(reference)],
      ['readAllClassValidatorPerSec', () => readAllCount(reference)],
    );
  }
  let events = 0;
  for (let round = 1; round <= rounds; round++) {
    for (const [name, pass] of passes) {
      let n = 0;
      const perSec = await rate(async () => (n = await pass()));
      events = n;
      (runs[name] ??= []).push(perSec);
      progress(
        `round ${round}/${rounds} ${name.replace('PerSec', '').padEnd(26)} ${n} in ${(n / perSec).toFixed(2)} s = ${perSec.toFixed(0)}/s`,
      );
    }
  }
  const figures = Object.fromEntries(Object.entries(runs).map(([name, xs]) => [name, median(xs)]));
  return { events, ...figures } as unknown as ReadFigures;
}
