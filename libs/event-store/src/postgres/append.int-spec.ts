import { IsInt, IsString, Min } from 'class-validator';
import { createEventStore, EventStoreHandle } from '../create-event-store';
import { ConcurrencyConflictError, IdempotencyConflictError } from '../errors';
import { defineEvent } from '../registry/event-definition';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '../testing/test-database';
import { randomUUID } from 'node:crypto';

class Noted {
  @IsString() text: string;
  @IsInt() @Min(0) n: number;
}
const events = [defineEvent({ type: 'Noted', version: 1, eventClass: Noted })];
const note = (n: number, eventId?: string) => ({ type: 'Noted', schemaVersion: 1, data: { text: `n${n}`, n }, eventId });

describe('appendToStream on PostgreSQL', () => {
  const schema = uniqueSchema();
  let es: EventStoreHandle;
  beforeAll(async () => {
    es = await createEventStore({ url: TEST_DATABASE_URL, schema, events, poolSize: 60 });
  });
  afterAll(async () => {
    await es?.close();
    await dropSchema(schema);
  });

  it('honours expectedVersion no_stream, stream_exists, a number and any', async () => {
    const s = `s-${randomUUID()}`;
    await expect(es.store.appendToStream(s, [note(1)], { expectedVersion: 'stream_exists' })).rejects.toBeInstanceOf(
      ConcurrencyConflictError,
    );
    await expect(es.store.appendToStream(s, [note(1)], { expectedVersion: 1 })).rejects.toMatchObject({
      code: 'EVENT_STORE.CONCURRENCY_CONFLICT',
      actualVersion: 0,
    });
    const first = await es.store.appendToStream(s, [note(1), note(2)], { expectedVersion: 'no_stream' });
    expect(first).toMatchObject({ streamVersion: 2, written: true });
    await expect(es.store.appendToStream(s, [note(3)], { expectedVersion: 'no_stream' })).rejects.toBeInstanceOf(ConcurrencyConflictError);
    await expect(es.store.appendToStream(s, [note(3)], { expectedVersion: 1 })).rejects.toMatchObject({ actualVersion: 2 });
    expect(await es.store.appendToStream(s, [note(3)], { expectedVersion: 2 })).toMatchObject({ streamVersion: 3 });
    expect(await es.store.appendToStream(s, [note(4)], { expectedVersion: 'stream_exists' })).toMatchObject({
      streamVersion: 4,
    });
    const last = await es.store.appendToStream(s, [note(5)], { expectedVersion: 'any' });
    expect(last.streamVersion).toBe(5);
    expect(last.position).toBeGreaterThan(first.position);
    const versions: number[] = [];
    for await (const e of es.store.readStreamStored(s, { batchSize: 2 })) versions.push(e.streamVersion);
    expect(versions).toEqual([1, 2, 3, 4, 5]);
  });

  it('lets exactly one of 50 concurrent appends with the same expected version win', async () => {
    const s = `race-${randomUUID()}`;
    await es.store.appendToStream(s, [note(0)], { expectedVersion: 'no_stream' });
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) => es.store.appendToStream(s, [note(i)], { expectedVersion: 1 })),
    );
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(49);
    lost.forEach((r) => expect(r.reason).toBeInstanceOf(ConcurrencyConflictError));
    const versions: number[] = [];
    for await (const e of es.store.readStreamStored(s)) versions.push(e.streamVersion);
    expect(versions).toEqual([1, 2]);
  });

  it("keeps 50 concurrent 'any' appends gap-free and duplicate-free", async () => {
    const s = `any-${randomUUID()}`;
    await Promise.all(Array.from({ length: 50 }, (_, i) => es.store.appendToStream(s, [note(i)])));
    const versions: number[] = [];
    for await (const e of es.store.readStreamStored(s)) versions.push(e.streamVersion);
    expect(versions).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
  });

  it('treats a re-append of the same event ids as a no-op that returns the original result', async () => {
    const s = `idem-${randomUUID()}`;
    const ids = [randomUUID(), randomUUID()];
    const original = await es.store.appendToStream(s, [note(1, ids[0]), note(2, ids[1])], { expectedVersion: 'no_stream' });
    const retry = await es.store.appendToStream(s, [note(1, ids[0]), note(2, ids[1])], { expectedVersion: 'no_stream' });
    expect(retry).toEqual({ ...original, written: false });
    expect(await es.store.streamVersion(s)).toBe(2);
    await expect(es.store.appendToStream(s, [note(1, ids[0]), note(3)])).rejects.toBeInstanceOf(IdempotencyConflictError);
    const concurrent = randomUUID();
    const both = await Promise.all([1, 2].map(() => es.store.appendToStream(s, [note(9, concurrent)])));
    expect(both.map((r) => r.position)).toEqual([both[0].position, both[0].position]);
    expect(await es.store.streamVersion(s)).toBe(3);
  });

  it('refuses to update or delete stored events', async () => {
    await expect(es.db.query(`UPDATE "${schema}".events SET type = 'X'`)).rejects.toThrow(/append-only/);
    await expect(es.db.query(`DELETE FROM "${schema}".events`)).rejects.toThrow(/append-only/);
  });
});
