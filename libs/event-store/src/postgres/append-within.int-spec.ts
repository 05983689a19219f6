import { randomUUID } from 'node:crypto';
import { createEventStore, EventStoreHandle } from '../create-event-store';
import { ConcurrencyConflictError, ForeignTransactionError } from '../errors';
import type { Queryable } from './queryable';
import { note, notedEvents as events } from '../testing/noted-events';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '../testing/test-database';

/**
 * The contract of `appendWithin` as an application uses it: its own rows in
 * the same transaction as the events (an idempotency key, an email
 * reservation), all committed or none.
 */
describe('appendWithin in the store’s transactions', () => {
  const schema = uniqueSchema();
  let es: EventStoreHandle;
  beforeAll(async () => {
    es = await createEventStore({ url: TEST_DATABASE_URL, schema, events, poolSize: 4 });
    await es.db.query(`CREATE TABLE "${schema}".reservations (email text PRIMARY KEY, stream_id text NOT NULL)`);
  });
  afterAll(async () => {
    await es?.close();
    await dropSchema(schema);
  });

  const register = (email: string) => {
    const stream = `user-${randomUUID()}`;
    return es.store.inTransaction(async (q) => {
      const result = await es.store.appendWithin(q, stream, [note(1)], 'no_stream');
      await q.query(`INSERT INTO "${schema}".reservations (email, stream_id) VALUES ($1, $2)`, [email, stream]);
      return { stream, result };
    });
  };

  it('commits the events with the caller’s rows, and a unique violation on a row rolls the events back too', async () => {
    const email = `${randomUUID()}@example.com`;
    const first = await register(email);
    expect(await es.store.streamVersion(first.stream)).toBe(1);
    const count = async () => (await es.db.query<any>(`SELECT count(*)::int AS n FROM "${schema}".events`))[0].n;
    const before = await count();
    await expect(register(email)).rejects.toMatchObject({ driverError: { code: '23505' } });
    expect(await count()).toBe(before);
  });

  it('rows written before the append, and several appends, commit together', async () => {
    const stream = `s-${randomUUID()}`;
    await es.store.inTransaction(async (q) => {
      await q.query(`INSERT INTO "${schema}".reservations (email, stream_id) VALUES ($1, $2)`, [`${randomUUID()}@x`, stream]);
      await es.store.appendWithin(q, stream, [note(1)], 'no_stream');
      await es.store.appendWithin(q, stream, [note(2), note(3)], 1);
    });
    expect(await es.store.streamVersion(stream)).toBe(3);
  });

  it('refuses a Queryable the store did not open, and one whose transaction has ended', async () => {
    await expect(es.store.appendWithin(es.db, `f-${randomUUID()}`, [note(1)])).rejects.toBeInstanceOf(ForeignTransactionError);
    // A copy of a store transaction's methods is not that transaction either.
    await es.store.inTransaction(async (q) => {
      const copy: Queryable = { query: (sql, params) => q.query(sql, params), execute: (sql, params) => q.execute(sql, params) };
      await expect(es.store.appendWithin(copy, `f-${randomUUID()}`, [note(1)])).rejects.toBeInstanceOf(ForeignTransactionError);
    });
    let leaked: Parameters<Parameters<typeof es.store.inTransaction>[0]>[0] | undefined;
    await es.store.inTransaction(async (q) => {
      leaked = q;
    });
    await expect(es.store.appendWithin(leaked!, `f-${randomUUID()}`, [note(1)])).rejects.toMatchObject({
      code: 'EVENT_STORE.FOREIGN_TRANSACTION',
    });
  });

  it('never reports a transaction as committed after a failed append the caller swallowed', async () => {
    const stream = `s-${randomUUID()}`;
    await es.store.appendToStream(stream, [note(1)]);
    const email = `${randomUUID()}@example.com`;
    const outcome = es.store.inTransaction(async (q) => {
      await q.query(`INSERT INTO "${schema}".reservations (email, stream_id) VALUES ($1, $2)`, [email, stream]);
      await es.store.appendWithin(q, stream, [note(2)], 'no_stream').catch(() => 'ignored');
      return 'done';
    });
    await expect(outcome).rejects.toBeInstanceOf(ConcurrencyConflictError);
    const rows = await es.db.query(`SELECT 1 FROM "${schema}".reservations WHERE email = $1`, [email]);
    expect(rows).toHaveLength(0);
  });

  it('an append retried in a new transaction after a commit is a no-op that answers the original result', async () => {
    const stream = `s-${randomUUID()}`;
    const event = { ...note(1), eventId: randomUUID() };
    const first = await es.store.inTransaction((q) => es.store.appendWithin(q, stream, [{ ...event }], 'no_stream'));
    const retry = await es.store.inTransaction((q) => es.store.appendWithin(q, stream, [{ ...event }], 'no_stream'));
    expect(retry).toEqual({ ...first, written: false });
  });
});
