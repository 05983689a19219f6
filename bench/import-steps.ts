import { Readable } from 'node:stream';
import { Client } from 'pg';
import type { EventStoreHandle } from '@app/event-store';
import { logLockKeys } from '@app/event-store/testing';
import { CopyLineEncoder } from '@app/event-store/testing';
import { batchAppends, bulkHistory, bulkImport, rawCopy, timed } from './event-store-writes';

/**
 * Where the time of an import and of batch appends goes, step by step: every
 * statement the library sends is timed from send to answer (the pg client's
 * `query` wrapped for the duration of one run), and the client's own JSON
 * handling (the COPY encoder) is timed alone on the same bytes. A staging COPY
 * overlaps the encoding of the next one, so its time includes waiting for the client.
 */
const STEPS: Array<[string, RegExp]> = [
  ['staging COPY (binary, while the client parses the next MB)', /^COPY es_import_events/],
  ['checks: ids the log has (per chunk)', /^INSERT INTO es_import_stored/],
  ['checks: an id twice', /GROUP BY event_id/],
  ['checks: stream versions', /^SELECT line, stream_id, stream_version, previous/],
  ['insert-select into the log, positions reserved (per chunk)', /^WITH reserved AS MATERIALIZED/],
  ['ANALYZE', /^ANALYZE/],
  ['batch append statement (append_to_streams)', /append_to_streams/],
];
const OTHER = 'other statements (temp tables, counts, report)';

export interface StepTimes {
  totalMs: number;
  steps: Record<string, number>;
}

/** Runs `work` with every pg query timed by step. Not reentrant: one measured run at a time. */
async function timeStatements(work: () => Promise<unknown>): Promise<StepTimes> {
  const proto = Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = proto.query;
  const steps: Record<string, number> = {};
  proto.query = function (this: unknown, ...args: unknown[]) {
    const q = args[0] as string | { text?: string } | undefined;
    const text = (typeof q === 'string' ? q : (q?.text ?? String((q as { query?: string })?.query ?? ''))).trimStart();
    const step = STEPS.find(([, re]) => re.test(text))?.[0] ?? OTHER;
    const t = process.hrtime.bigint();
    const add = () => (steps[step] = (steps[step] ?? 0) + Number(process.hrtime.bigint() - t) / 1e6);
    const r = original.apply(this, args) as { then?: unknown; on?: (e: string, f: () => void) => unknown };
    if (typeof r?.then === 'function') (r as Promise<unknown>).then(add, add);
    else r?.on?.('finish', add);
    return r;
  };
  try {
    const { ms } = await timed(work);
    return { totalMs: ms, steps };
  } finally {
    proto.query = original;
  }
}

/** One import and one batch-append run of `count` events, step by step, with a raw COPY of the same rows just before. */
export async function measureSteps(es: EventStoreHandle, url: string, schema: string, count: number, batch: number) {
  const history = bulkHistory(count, 1000);
  const copyPerSec = await rawCopy(url, schema, history, 99);
  const bytes = Buffer.from(history.map((e) => JSON.stringify(e) + '\n').join(''));
  const encoder = await timed(
    () =>
      new Promise<void>((resolve, reject) => {
        Readable.from([bytes])
          .pipe(new CopyLineEncoder())
          .on('data', () => undefined)
          .on('end', resolve)
          .on('error', reject);
      }),
  );
  const importSteps = await timeStatements(() => bulkImport(es, history));
  // The reservation alone, as often as the import's chunks ran it (10,000 lines each).
  const [lock1, lock2] = logLockKeys(schema).append;
  const chunks = Math.ceil(count / 10_000);
  const reserve = await timed(async () => {
    for (let i = 0; i < chunks; i++) {
      await es.db.query(`SELECT * FROM "${schema}".reserve_positions(10000, $1, $2)`, [lock1, lock2]);
    }
  });
  const batchSteps = await timeStatements(() => batchAppends(es, bulkHistory(count, 50), batch));
  return { events: count, copyMs: (count / copyPerSec) * 1000, encoderMs: encoder.ms, reserveMs: reserve.ms, importSteps, batchSteps };
}

/** Prints both runs as shares of their total, against the raw COPY of the same rows. */
export function printSteps(s: Awaited<ReturnType<typeof measureSteps>>): void {
  const row = (label: string, ms: number, total: number) =>
    console.log(`    ${label.padEnd(62)} ${ms.toFixed(0).padStart(6)} ms  ${((100 * ms) / total).toFixed(1).padStart(5)}%`);
  for (const [name, run] of [
    ['import', s.importSteps],
    ['batch appends', s.batchSteps],
  ] as const) {
    console.log(`  ${name} of ${s.events} events, step by step: ${run.totalMs.toFixed(0)} ms (raw COPY ${s.copyMs.toFixed(0)} ms)`);
    for (const [label, ms] of Object.entries(run.steps).sort((a, b) => b[1] - a[1])) row(label, ms, run.totalMs);
    const statements = Object.values(run.steps).reduce((a, b) => a + b, 0);
    row('client: not in a statement', Math.max(0, run.totalMs - statements), run.totalMs);
  }
  console.log(`    (client JSON handling alone, the COPY encoder on the same bytes: ${s.encoderMs.toFixed(0)} ms;`);
  console.log(`     position reservation alone, once per 10,000-line chunk: ${s.reserveMs.toFixed(1)} ms)`);
}
