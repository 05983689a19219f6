import { randomUUID } from 'node:crypto';
import { eventually } from '../../../../test/eventually';
import { createEventStore, EventStoreHandle } from '../create-event-store';
import { ImportLineError } from '../errors';
import { deferred } from '../testing/append-probes';
import { notedEvents as events } from '../testing/noted-events';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '../testing/test-database';
import type { ExportedEvent } from './export-format';
import { exportLines, importLines, ImportProgress } from './export-import';

/** `count` events over `streams` streams, interleaved, as export lines. */
function history(count: number, streams: number, prefix = `s-${randomUUID()}`): ExportedEvent[] {
  return Array.from({ length: count }, (_, i) => ({
    eventId: randomUUID(),
    streamId: `${prefix}-${i % streams}`,
    streamVersion: Math.floor(i / streams) + 1,
    type: 'Noted',
    schemaVersion: 1,
    data: { n: i },
    metadata: { occurredAt: '2024-06-01T00:00:00.000Z' },
    recordedAt: new Date(Date.UTC(2024, 5, 1, 0, 0, i)).toISOString(),
  }));
}
const jsonl = (lines: unknown[]) => lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l)) + '\n').join('');
const asInput = (text: string) => [Buffer.from(text)];

/**
 * Promises of the bulk import: idempotent by event id, resumable after a
 * crash, nothing written when any line cannot be imported (the error names
 * it), stream versions consistent with the log, and no global reader ever
 * skipping an imported event.
 */
describe('importLines (bulk, via COPY)', () => {
  const schema = uniqueSchema();
  let es: EventStoreHandle;
  beforeAll(async () => {
    es = await createEventStore({ url: TEST_DATABASE_URL, schema, events, poolSize: 8 });
  });
  afterAll(async () => {
    await es?.close();
    await dropSchema(schema);
  });

  const count = async () => Number((await es.db.query<any>(`SELECT count(*) AS n FROM "${schema}".events`))[0].n);
  const streamOf = async (streamId: string) => {
    const out: Array<[number, number]> = [];
    for await (const e of es.store.readStreamStored(streamId)) out.push([e.streamVersion, (e.data as { n: number }).n]);
    return out;
  };
  const importFails = async (text: string) => {
    const before = await count();
    const error = await importLines(es.store, asInput(text)).catch((e) => e);
    expect(error).toBeInstanceOf(ImportLineError);
    expect(await count()).toBe(before);
    return error as ImportLineError;
  };

  it('imports in line order, keeps every field, and a re-run skips everything', async () => {
    const lines = history(50, 7);
    const phases: string[] = [];
    const onProgress = (p: ImportProgress) => void (phases[phases.length - 1] !== p.phase && phases.push(p.phase));
    const report = await importLines(es.store, asInput(jsonl(lines)), { chunkSize: 8, onProgress });
    expect(report).toEqual({ imported: 50, skipped: 0, position: expect.any(Number), leftOut: 0, movedOn: [] });
    expect(phases).toEqual(['reading', 'checking', 'writing']);
    await eventually(async () => (await es.store.headPosition()) >= report.position, 5000, 'the import to be settled');
    const exported: ExportedEvent[] = [];
    for await (const line of exportLines(es.store, { fromPosition: report.position - 49 })) exported.push(JSON.parse(line));
    expect(exported).toEqual(lines);
    expect(await importLines(es.store, asInput(jsonl(lines)))).toEqual({ imported: 0, skipped: 50, position: 0, leftOut: 0, movedOn: [] });
  });

  it('leaves the log analyzed, so global readers keep reading it batch by batch through the index', async () => {
    const analyzed = async () =>
      (
        await es.db.query<{ n: string }>(
          `SELECT analyze_count + autoanalyze_count AS n FROM pg_stat_user_tables WHERE schemaname = $1 AND relname = 'events'`,
          [schema],
        )
      )[0].n;
    const before = Number(await analyzed());
    await importLines(es.store, asInput(jsonl(history(20, 11))));
    await eventually(async () => Number(await analyzed()) > before, 5000, 'the statistics collector to count the ANALYZE');
  });

  it('skips the ANALYZE when an import adds less than a tenth of the log as last analyzed', async () => {
    await importLines(es.store, asInput(jsonl(history(400, 20))));
    await es.db.query(`ANALYZE "${schema}".events`);
    const [{ at }] = await es.db.query<{ at: Date | null }>(
      `SELECT last_analyze AS at FROM pg_stat_user_tables WHERE schemaname = $1 AND relname = 'events'`,
      [schema],
    );
    await importLines(es.store, asInput(jsonl(history(10, 2))));
    // Statistics are counted asynchronously: a later ANALYZE would show as a later last_analyze once counted.
    await es.db.query(`SELECT pg_stat_clear_snapshot()`);
    const [after] = await es.db.query<{ at: Date | null }>(
      `SELECT last_analyze AS at FROM pg_stat_user_tables WHERE schemaname = $1 AND relname = 'events'`,
      [schema],
    );
    expect(after.at).toEqual(at);
  });

  it('resumes after a crash: committed chunks stay, a re-run writes the rest, a follower sees each event once', async () => {
    const lines = history(40, 3);
    const start = (await es.store.headPosition()) + 1;
    const crash = (p: ImportProgress) => {
      if (p.phase === 'writing' && p.written >= 15) throw new Error('crash after 3 chunks');
    };
    await expect(importLines(es.store, asInput(jsonl(lines)), { chunkSize: 5, onProgress: crash })).rejects.toThrow('crash');
    const resumed = await importLines(es.store, asInput(jsonl(lines)), { chunkSize: 5 });
    expect(resumed).toMatchObject({ imported: 25, skipped: 15 });
    await eventually(async () => (await es.store.headPosition()) >= resumed.position, 5000, 'the import to be settled');
    const seen: number[] = [];
    for await (const e of es.store.readAllStored({ fromPosition: start })) seen.push((e.data as { n: number }).n);
    expect(seen).toEqual(lines.map((l) => (l.data as { n: number }).n));
    expect(await streamOf(lines[0].streamId)).toEqual(
      lines.filter((l) => l.streamId === lines[0].streamId).map((l) => [l.streamVersion, (l.data as { n: number }).n]),
    );
  });

  it('a slow input never holds back global readers: no transaction waits on the client', async () => {
    const lines = history(3000, 10);
    const resume = deferred();
    const halfRead = deferred();
    async function* slowClient() {
      yield Buffer.from(jsonl(lines.slice(0, 1500)));
      halfRead.resolve();
      await resume.promise;
      yield Buffer.from(jsonl(lines.slice(1500)));
    }
    const importing = importLines(es.store, slowClient());
    await halfRead.promise;
    // While the import waits for the rest of its input, an append elsewhere becomes readable.
    const live = await es.store.appendToStream(`live-${randomUUID()}`, [{ type: 'Noted', schemaVersion: 1, data: { n: 1 } }]);
    await eventually(async () => (await es.store.headPosition()) >= live.position, 5000, 'the live append to be readable');
    resume.resolve();
    expect(await importing).toMatchObject({ imported: 3000, skipped: 0 });
  });

  it('continues a stream that the log already has, and refuses a gap or a conflicting existing stream, naming the line', async () => {
    const lines = history(6, 1);
    await importLines(es.store, asInput(jsonl(lines.slice(0, 2))));
    expect(await importLines(es.store, asInput(jsonl(lines)))).toMatchObject({ imported: 4, skipped: 2 });
    const gap = history(3, 1).map((l) => ({ ...l, streamVersion: l.streamVersion + 1 }));
    expect((await importFails(jsonl([lines[0], ...gap]))).message).toMatch(
      /^Import line 2: stream ".*" is at version 0 in the log: version 2 would leave a gap/,
    );
    const existing = history(2, 1, lines[0].streamId.replace(/-0$/, '')).map((l) => ({ ...l, streamVersion: l.streamVersion + 5 }));
    expect((await importFails(jsonl(existing))).message).toMatch(
      /^Import line 1: stream ".*" already has version 6 in the log \(another event\): conflicting existing stream/,
    );
  });

  it('refuses versions out of order within the file, an id twice, and an id stored as another event', async () => {
    const [a, b, c] = history(3, 1);
    expect((await importFails(jsonl([a, c, b]))).message).toMatch(/^Import line 2: stream ".*" has version 3 after version 1/);
    expect((await importFails(jsonl([a, { ...b, eventId: a.eventId }]))).message).toMatch(
      /^Import line 2: eventId .* appears twice \(first on line 1\)/,
    );
    await importLines(es.store, asInput(jsonl([a])));
    const [x] = history(1, 1);
    expect((await importFails(jsonl([x, { ...x, eventId: a.eventId, streamVersion: 2 }]))).message).toMatch(
      /^Import line 2: eventId .* is already stored as another event/,
    );
  });

  it('refuses an invalid line anywhere with the line number and the reason, counting blank lines and CRLF endings', async () => {
    const [a, b] = history(2, 1);
    expect((await importFails(`${JSON.stringify(a)}\r\n\r\nnot json\r\n`)).message).toBe('Import line 3: not valid JSON');
    expect((await importFails(jsonl([a, '[1,2]']))).message).toBe('Import line 2: not a JSON object');
    expect((await importFails(jsonl([a, { eventId: 'x' }]))).message).toBe(
      'Import line 2: eventId must be a UUID; streamId must be 1..200 chars; streamVersion must be an integer >= 1; ' +
        'type must be a non-empty string; schemaVersion must be an integer >= 1; data must be an object',
    );
    expect((await importFails(jsonl([a, { ...b, recordedAt: '2024-02-31T00:00:00Z' }]))).message).toMatch(
      /^Import line 2: recordedAt must be a date/,
    );
    expect((await importFails(jsonl([a, { ...b, metadata: null }]))).message).toBe('Import line 2: metadata must be an object');
    // JavaScript reads a \u0000 escape, PostgreSQL's jsonb refuses it: the server's refusal still names the line.
    expect((await importFails(`\n${jsonl([a, { ...b, data: { s: '\u0000' } }])}`)).message).toMatch(/^Import line 3: not valid JSON \(/);
    const broken = Buffer.concat([Buffer.from(jsonl([a])), Buffer.from([0x7b, 0xff, 0x7d, 0x0a])]);
    expect(await importLines(es.store, [broken]).catch((e) => e.message)).toBe('Import line 2: not valid UTF-8');
    expect(await importLines(es.store, asInput('\n \n'))).toEqual({ imported: 0, skipped: 0, position: 0, leftOut: 0, movedOn: [] });
  });

  it('keeps the global order while live appends run: a follower reading meanwhile sees every event exactly once, in order', async () => {
    const start = (await es.store.headPosition()) + 1;
    const lines = history(300, 20);
    let writing = true;
    const live = Promise.all(
      [1, 2, 3].map(async (w) => {
        let n = 0;
        while (writing) await es.store.appendToStream(`live-${w}-${randomUUID()}`, [{ type: 'Noted', schemaVersion: 1, data: { n: n++ } }]);
      }),
    );
    const seen: number[] = [];
    let next = start;
    const followOnce = async () => {
      const batch = await es.store.readBatch(next, Number.MAX_SAFE_INTEGER, 13);
      seen.push(...batch.map((e) => e.position));
      if (batch.length) next = batch[batch.length - 1].position + 1;
    };
    let importing = true;
    const follower = (async () => {
      while (importing) await followOnce();
    })();
    const report = await importLines(es.store, asInput(jsonl(lines)), { chunkSize: 17 });
    writing = false;
    await live;
    importing = false;
    await follower;
    const all = (await es.db.query<any>(`SELECT position FROM "${schema}".events WHERE position >= $1 ORDER BY position`, [start])).map(
      (r: { position: string }) => Number(r.position),
    );
    await eventually(
      async () => {
        await followOnce();
        return next > all[all.length - 1];
      },
      5000,
      'the follower to reach the end of the log',
    );
    expect(seen).toEqual(all);
    expect(report.imported).toBe(300);
  });
});
