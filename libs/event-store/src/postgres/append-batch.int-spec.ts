import { randomUUID } from 'node:crypto';
import { eventually } from '../../../../test/eventually';
import { createEventStore, EventStoreHandle } from '../create-event-store';
import { ConcurrencyConflictError, IdempotencyConflictError, InvalidAppendError } from '../errors';
import { AppendProbe, deferred } from '../testing/append-probes';
import { note, notedEvents as events } from '../testing/noted-events';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '../testing/test-database';
import { MAX_STREAMS_PER_BATCH } from './append-batch';

/** Promise: a batch is written whole or not at all, each stream at its expected version, in one statement. */
describe('appendToStreams (batch append)', () => {
  const schema = uniqueSchema();
  let es: EventStoreHandle;
  beforeAll(async () => {
    es = await createEventStore({ url: TEST_DATABASE_URL, schema, events, poolSize: 24 });
  });
  afterAll(async () => {
    await es?.close();
    await dropSchema(schema);
  });

  const versions = async (stream: string) => {
    const out: Array<[number, number]> = [];
    for await (const e of es.store.readStreamStored(stream)) out.push([e.streamVersion, (e.data as { n: number }).n]);
    return out;
  };

  it('writes many streams at their expected versions, in request order, with positions in that order', async () => {
    const [a, b, c] = [1, 2, 3].map(() => `b-${randomUUID()}`);
    await es.store.appendToStream(b, [note(0)]);
    const result = await es.store.appendToStreams([
      { streamId: a, events: [note(1), note(2)], expectedVersion: 'no_stream' },
      { streamId: b, events: [note(3)], expectedVersion: 1 },
      { streamId: c, events: [note(4)] },
    ]);
    expect(result.streams.map((s) => [s.streamId, s.streamVersion, s.written])).toEqual([
      [a, 2, true],
      [b, 2, true],
      [c, 1, true],
    ]);
    expect(result.position).toBe(result.streams[2].position);
    expect(result.streams[0].position).toBeLessThan(result.streams[1].position);
    expect(await versions(a)).toEqual([
      [1, 1],
      [2, 2],
    ]);
    expect(await versions(b)).toEqual([
      [1, 0],
      [2, 3],
    ]);
    // Global readers see the batch once every older transaction in the cluster has ended (ADR 0002).
    await eventually(async () => (await es.store.headPosition()) >= result.position, 5000, 'the batch to be settled');
    const all = [];
    for await (const e of es.store.readAllStored({ fromPosition: result.streams[0].position - 1 })) all.push((e.data as { n: number }).n);
    expect(all).toEqual([1, 2, 3, 4]);
  });

  it('writes nothing when one stream is not at its expected version, and names that stream', async () => {
    const [a, b] = [1, 2].map(() => `b-${randomUUID()}`);
    await es.store.appendToStream(b, [note(0)]);
    const head = await es.store.headPosition();
    const failure = await es.store
      .appendToStreams([
        { streamId: a, events: [note(1)], expectedVersion: 'no_stream' },
        { streamId: b, events: [note(2)], expectedVersion: 'no_stream' },
      ])
      .catch((e) => e);
    expect(failure).toBeInstanceOf(ConcurrencyConflictError);
    expect(failure).toMatchObject({ streamId: b, expectedVersion: 'no_stream', actualVersion: 1 });
    expect(await versions(a)).toEqual([]);
    expect(await es.store.headPosition()).toBe(head);
  });

  it('a retried batch is a no-op per stream that answers the original results; reusing some ids differently is refused', async () => {
    const [a, b] = [1, 2].map(() => `b-${randomUUID()}`);
    const batch = () => [
      { streamId: a, events: [note(1, ids[0]), note(2, ids[1])], expectedVersion: 'no_stream' as const },
      { streamId: b, events: [note(3, ids[2])] },
    ];
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    const first = await es.store.appendToStreams(batch());
    const retry = await es.store.appendToStreams(batch());
    expect(retry.streams).toEqual(first.streams.map((s) => ({ ...s, written: false })));
    await expect(
      es.store.appendToStreams([
        { streamId: `b-${randomUUID()}`, events: [note(1)] },
        { streamId: a, events: [note(9, ids[0]), note(10)] },
      ]),
    ).rejects.toMatchObject({ constructor: IdempotencyConflictError, streamId: a });
    expect(await versions(a)).toEqual([
      [1, 1],
      [2, 2],
    ]);
  });

  it('an id racing in on another stream (uncommitted when the batch checked) is refused as an idempotency conflict', async () => {
    const probe = await AppendProbe.open(schema);
    try {
      const id = randomUUID();
      const appended = deferred();
      const commit = deferred();
      const holder = es.store.inTransaction(async (q) => {
        await es.store.appendWithin(q, `h-${randomUUID()}`, [note(1, id)]);
        appended.resolve();
        await commit.promise;
      });
      await appended.promise;
      const other = `b-${randomUUID()}`;
      const batch = es.store.appendToStreams([{ streamId: other, events: [note(2, id)] }]).catch((e) => e);
      await eventually(() => probe.waitingAppend(), 5000, 'the batch to wait on the uncommitted id');
      commit.resolve();
      await holder;
      expect(await batch).toMatchObject({ code: 'EVENT_STORE.IDEMPOTENCY_CONFLICT', streamId: other });
      expect(await versions(other)).toEqual([]);
    } finally {
      await probe.close();
    }
  });

  it('concurrent batches over the same streams in different orders neither deadlock nor lose a version', async () => {
    const streams = [1, 2, 3, 4, 5].map(() => `b-${randomUUID()}`);
    const shuffled = (i: number) => [...streams].sort((x, y) => (x + i).localeCompare(y + i));
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => es.store.appendToStreams(shuffled(i).map((streamId) => ({ streamId, events: [note(i)] })))),
    );
    for (const s of streams) expect((await versions(s)).map(([v]) => v)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });

  it('refuses malformed batches before touching the database', async () => {
    const s = `b-${randomUUID()}`;
    await expect(es.store.appendToStreams([])).rejects.toBeInstanceOf(InvalidAppendError);
    await expect(
      es.store.appendToStreams([
        { streamId: s, events: [note(1)] },
        { streamId: s, events: [note(2)] },
      ]),
    ).rejects.toThrow(/twice/);
    await expect(es.store.appendToStreams([{ streamId: s, events: [] }])).rejects.toThrow(/no events/);
    const id = randomUUID();
    await expect(
      es.store.appendToStreams([
        { streamId: s, events: [note(1, id)] },
        { streamId: `${s}x`, events: [note(2, id)] },
      ]),
    ).rejects.toThrow(/appears twice/);
    const many = Array.from({ length: MAX_STREAMS_PER_BATCH + 1 }, (_, i) => ({ streamId: `${s}-${i}`, events: [note(i)] }));
    await expect(es.store.appendToStreams(many)).rejects.toMatchObject({ code: 'EVENT_STORE.BATCH_TOO_LARGE' });
    expect(await versions(s)).toEqual([]);
  });
});
