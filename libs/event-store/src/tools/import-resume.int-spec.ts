import { randomUUID } from 'node:crypto';
import type { PoolClient } from 'pg';
import { eventually } from '../../../../test/eventually';
import { createEventStore, EventStoreHandle } from '../create-event-store';
import { ConcurrencyConflictError } from '../errors';
import { AppendProbe, deferred } from '../testing/append-probes';
import { notedEvents as events } from '../testing/noted-events';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '../testing/test-database';
import type { StoredEvent } from '../types';
import type { ExportedEvent } from './export-format';
import { importLines, ImportProgress } from './export-import';

/** `count` events over `streams` streams, interleaved (line i is stream i % streams), as export lines. */
function history(count: number, streams: number): ExportedEvent[] {
  const prefix = `r-${randomUUID()}`;
  return Array.from({ length: count }, (_, i) => ({
    eventId: randomUUID(),
    streamId: `${prefix}-${i % streams}`,
    streamVersion: Math.floor(i / streams) + 1,
    type: i % 3 === 0 ? 'Other' : 'Noted',
    schemaVersion: 1,
    data: { n: i },
    metadata: {},
    recordedAt: '2024-06-01T00:00:00.000Z',
  }));
}
const input = (lines: ExportedEvent[]) => [Buffer.from(lines.map((l) => JSON.stringify(l) + '\n').join(''))];

/**
 * Imports against live writers and applications: a stream appended to during an
 * import (or between a crash and its re-run) never makes the file un-importable;
 * the per-chunk hook commits with its chunk; the checks hold transaction ids
 * (which hold back every global reader) no longer than a chunk does.
 */
describe('importLines: live writers, chunk hook, bounded checks', () => {
  const schema = uniqueSchema('imp');
  let es: EventStoreHandle;
  beforeAll(async () => {
    es = await createEventStore({ url: TEST_DATABASE_URL, schema, events, poolSize: 4 });
    await es.db.query(`CREATE TABLE "${schema}".hooked (position bigint PRIMARY KEY, type text NOT NULL)`);
  });
  afterAll(async () => {
    await es?.close();
    await dropSchema(schema);
  });

  const versions = async (streamId: string) => {
    const out: Array<[number, number]> = [];
    for await (const e of es.store.readStreamStored(streamId)) out.push([e.streamVersion, (e.data as { n: number }).n]);
    return out;
  };
  const liveAppend = (streamId: string, expectedVersion: number) =>
    es.store.appendToStream(streamId, [{ type: 'Noted', schemaVersion: 1, data: { n: -1 } }], { expectedVersion });
  /** Lines 1..20 over streams s0 (odd lines) and s1 (even lines); s0 moves on at v4 (line 7) when chunks have 5 lines. */
  const twoStreams = () => {
    const lines = history(20, 2);
    const [s0, s1] = [lines[0].streamId, lines[1].streamId];
    const expectedS0 = [
      [1, 0],
      [2, 2],
      [3, 4],
      [4, -1],
    ];
    return { lines, s0, s1, expectedS0, s1Lines: lines.filter((l) => l.streamId === s1) };
  };

  it('a live append to a stream during the import leaves that stream out from there, reports it, and imports the rest', async () => {
    const { lines, s0, s1, expectedS0, s1Lines } = twoStreams();
    let raced = false;
    const race = async (p: ImportProgress) => {
      if (p.phase !== 'writing' || p.written < 5 || raced) return;
      raced = true;
      await liveAppend(s0, 3);
    };
    const report = await importLines(es.store, input(lines), { chunkSize: 5, onProgress: race });
    const movedOn = [{ streamId: s0, line: 7, streamVersion: 4 }];
    expect(report).toMatchObject({ imported: 13, skipped: 0, leftOut: 7, movedOn });
    expect(await versions(s0)).toEqual(expectedS0);
    expect(await versions(s1)).toEqual(s1Lines.map((l) => [l.streamVersion, (l.data as { n: number }).n]));
    expect(await importLines(es.store, input(lines), { chunkSize: 5 })).toMatchObject({ imported: 0, skipped: 13, leftOut: 7, movedOn });
  });

  it('resumes after a crash and a live append since: the re-run leaves the moved-on stream out and writes every other line', async () => {
    const { lines, s0, s1, expectedS0, s1Lines } = twoStreams();
    const crash = (p: ImportProgress) => {
      if (p.phase === 'writing' && p.written >= 5) throw new Error('crash after the first chunk');
    };
    await expect(importLines(es.store, input(lines), { chunkSize: 5, onProgress: crash })).rejects.toThrow('crash');
    await liveAppend(s0, 3);
    const resumed = await importLines(es.store, input(lines), { chunkSize: 5 });
    expect(resumed).toMatchObject({ imported: 8, skipped: 5, leftOut: 7, movedOn: [{ streamId: s0, line: 7, streamVersion: 4 }] });
    expect(await versions(s0)).toEqual(expectedS0);
    expect((await versions(s1)).length).toBe(s1Lines.length);
  });

  it('a live append colliding with a chunk being written waits for the chunk, then fails as a concurrency conflict', async () => {
    const lines = history(6, 1);
    const stream = lines[0].streamId;
    const [inChunk, release] = [deferred(), deferred()];
    const holdChunk = {
      run: async () => {
        inChunk.resolve();
        await release.promise;
      },
    };
    const importing = importLines(es.store, input(lines), { inChunk: holdChunk });
    await inChunk.promise;
    const probe = await AppendProbe.open(schema);
    try {
      const live = es.store.appendToStream(stream, [{ type: 'Noted', schemaVersion: 1, data: { n: -1 } }]).catch((e: unknown) => e);
      await eventually(() => probe.waitingAppend(), 5000, 'the live append to wait for the chunk');
      release.resolve();
      expect(await live).toBeInstanceOf(ConcurrencyConflictError);
      expect(await importing).toMatchObject({ imported: 6, leftOut: 0, movedOn: [] });
      expect((await liveAppend(stream, 6)).streamVersion).toBe(7);
    } finally {
      release.resolve();
      await probe.close();
    }
  });

  it('runs the chunk hook in each chunk transaction with the events of its types; a hook failure rolls its chunk back', async () => {
    const lines = history(12, 5);
    const handed: StoredEvent[][] = [];
    const failOnThird = {
      types: ['Noted'],
      run: async (q: { query: (s: string, p?: unknown[]) => Promise<unknown> }, written: StoredEvent[]) => {
        handed.push(written);
        await q.query(`INSERT INTO "${schema}".hooked SELECT * FROM unnest($1::bigint[], $2::text[])`, [
          written.map((e) => e.position),
          written.map((e) => e.type),
        ]);
        if (handed.length === 3) throw new Error('hook failed');
      },
    };
    await expect(importLines(es.store, input(lines), { chunkSize: 4, inChunk: failOnThird })).rejects.toThrow('hook failed');
    expect(handed.map((w) => w.map((e) => (e.data as { n: number }).n))).toEqual([
      [1, 2],
      [4, 5, 7],
      [8, 10, 11],
    ]);
    const hooked = async () =>
      (
        await es.db.query<{ n: number }>(
          `SELECT (e.data->>'n')::int AS n FROM "${schema}".hooked h JOIN "${schema}".events e USING (position) ORDER BY 1`,
        )
      ).map((r) => r.n);
    // The third chunk's events and its hook rows rolled back together.
    expect(await hooked()).toEqual([1, 2, 4, 5, 7]);
    expect(await es.store.existingEventIds(lines.slice(8).map((l) => l.eventId))).toEqual(new Set());
    const rerun = await importLines(es.store, input(lines), {
      chunkSize: 4,
      inChunk: {
        ...failOnThird,
        run: async (q, w) => {
          await q.query(`INSERT INTO "${schema}".hooked SELECT * FROM unnest($1::bigint[], $2::text[])`, [
            w.map((e) => e.position),
            w.map((e) => e.type),
          ]);
        },
      },
    });
    expect(rerun).toMatchObject({ imported: 4, skipped: 8 });
    expect(await hooked()).toEqual([1, 2, 4, 5, 7, 8, 10, 11]);
  });

  it('no statement of the checks holds a transaction id over more lines than a write chunk', async () => {
    const lines = history(3000, 40);
    await importLines(es.store, input(lines), { chunkSize: 500 });
    // On the re-run every line is found stored: the rows recording that show which transaction wrote them.
    let linesPerTransaction: number[] = [];
    const original = es.store.withBulkSession.bind(es.store);
    const spy = jest.spyOn(es.store, 'withBulkSession').mockImplementation((work) =>
      original(async (client: PoolClient, target, announce) => {
        const report = await work(client, target, announce);
        const { rows } = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM es_import_stored GROUP BY xmin::text`);
        linesPerTransaction = rows.map((r) => r.n);
        return report;
      }),
    );
    try {
      expect(await importLines(es.store, input(lines), { chunkSize: 500 })).toMatchObject({ imported: 0, skipped: 3000 });
    } finally {
      spy.mockRestore();
    }
    expect(linesPerTransaction.reduce((a, b) => a + b, 0)).toBe(3000);
    expect(Math.max(...linesPerTransaction)).toBeLessThanOrEqual(500);
  });
});
