import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { EventStoreHandle } from '@app/event-store';
import { importLines, type ExportedEvent } from '@app/event-store/tools';
import { concurrently } from './measure';

/**
 * The write-side measurements of the event-store benchmark, each with the
 * baseline it is judged against, measured in the same run:
 *   single appends   vs one plain INSERT per transaction (same rows, no checks, no locks)
 *   batch appends    vs a raw COPY of the same rows into a table LIKE events INCLUDING ALL
 *   import           vs that same COPY
 */
const progress = (s: string) => process.stderr.write(`  ${s}\n`);

export async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; result: T }> {
  const t = process.hrtime.bigint();
  const result = await work();
  return { ms: Number(process.hrtime.bigint() - t) / 1e6, result };
}

const payload = (i: number) => ({ points: 1 + (i % 50), reason: 'bench', awardedAt: '2025-01-01T00:00:00.000Z' });

/** `rounds` interleaved runs of plain INSERT transactions and of single-event appends; rates per run. */
export async function singleAppends(es: EventStoreHandle, schema: string, clients: number, appends: number, rounds: number) {
  await es.db.query(`CREATE TABLE "${schema}".plain_events (LIKE "${schema}".events INCLUDING ALL)`);
  const plain: number[] = [];
  const appended: number[] = [];
  for (let r = 1; r <= rounds; r++) {
    progress(`round ${r}/${rounds}: ${appends} plain INSERT transactions, then ${appends} appendToStream calls, ${clients} clients`);
    const p = await timed(() =>
      concurrently(appends, clients, (i) =>
        es.store.inTransaction((q) =>
          q.query(
            `INSERT INTO "${schema}".plain_events (event_id, stream_id, stream_version, type, schema_version, data)
               VALUES ($1, $2, 1, 'PointsAwarded', 3, $3)`,
            [randomUUID(), `p-${r}-${i}`, JSON.stringify(payload(i))],
          ),
        ),
      ),
    );
    const a = await timed(() =>
      concurrently(appends, clients, (i) =>
        es.store.appendToStream(`user-${i % (clients * 4)}`, [{ type: 'PointsAwarded', schemaVersion: 3, data: payload(i) }]),
      ),
    );
    plain.push(appends / (p.ms / 1000));
    appended.push(appends / (a.ms / 1000));
  }
  return { plain, appended };
}

/** Export lines of `count` PointsAwarded events over `streams` fresh streams (what import and COPY both load). */
export function bulkHistory(count: number, streams: number): ExportedEvent[] {
  const prefix = randomUUID().slice(0, 8);
  return Array.from({ length: count }, (_, i) => ({
    eventId: randomUUID(),
    streamId: `bulk-${prefix}-${i % streams}`,
    streamVersion: Math.floor(i / streams) + 1,
    type: 'PointsAwarded',
    schemaVersion: 3,
    data: payload(i),
    metadata: { occurredAt: '2025-01-01T00:00:00.000Z' },
    recordedAt: '2025-01-01T00:00:00.000Z',
  }));
}

/** The same rows as COPY text-format lines for the baseline table. */
function copyText(events: ExportedEvent[]): string {
  const field = (v: string) => v.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n');
  return events
    .map(
      (e) =>
        [
          e.eventId,
          e.streamId,
          e.streamVersion,
          e.type,
          e.schemaVersion,
          field(JSON.stringify(e.data)),
          field(JSON.stringify(e.metadata)),
          e.recordedAt,
        ].join('\t') + '\n',
    )
    .join('');
}

/** Baseline: a raw COPY of the rows into a fresh table LIKE events INCLUDING ALL (same indexes); rows/s. */
export async function rawCopy(url: string, schema: string, events: ExportedEvent[], round: number): Promise<number> {
  const text = Buffer.from(copyText(events));
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    const table = `"${schema}".copy_events_${round}`;
    await c.query(`CREATE TABLE ${table} (LIKE "${schema}".events INCLUDING ALL)`);
    const { ms } = await timed(
      () =>
        new Promise<void>((resolve, reject) => {
          const stream = c.query(
            copyFrom(`COPY ${table} (event_id, stream_id, stream_version, type, schema_version, data, metadata, recorded_at) FROM STDIN`),
          );
          stream.on('finish', resolve).on('error', reject);
          stream.end(text);
        }),
    );
    return events.length / (ms / 1000);
  } finally {
    await c.end();
  }
}

/** `importLines` of the same rows as JSON lines (fed in 64 KiB chunks, as a file would be); events/s. */
export async function bulkImport(es: EventStoreHandle, events: ExportedEvent[]): Promise<number> {
  const bytes = Buffer.from(events.map((e) => JSON.stringify(e) + '\n').join(''));
  const chunks = Array.from({ length: Math.ceil(bytes.length / 65536) }, (_, i) => bytes.subarray(i * 65536, (i + 1) * 65536));
  const { ms, result } = await timed(() => importLines(es.store, chunks));
  if (result.imported !== events.length) throw new Error(`import wrote ${result.imported} of ${events.length}`);
  return events.length / (ms / 1000);
}

/** `appendToStreams` of the same rows, `batchSize` events per call (one round trip each), from one client; events/s. */
export async function batchAppends(es: EventStoreHandle, events: ExportedEvent[], batchSize: number): Promise<number> {
  const { ms } = await timed(async () => {
    for (let at = 0; at < events.length; at += batchSize) {
      const byStream = new Map<string, ExportedEvent[]>();
      for (const e of events.slice(at, at + batchSize)) byStream.set(e.streamId, [...(byStream.get(e.streamId) ?? []), e]);
      await es.store.appendToStreams(
        [...byStream].map(([streamId, list]) => ({
          streamId,
          expectedVersion: list[0].streamVersion - 1,
          events: list.map(({ eventId, type, schemaVersion, data, metadata }) => ({ eventId, type, schemaVersion, data, metadata })),
        })),
      );
    }
  });
  return events.length / (ms / 1000);
}
