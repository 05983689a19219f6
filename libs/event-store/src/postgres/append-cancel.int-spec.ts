import { randomUUID } from 'node:crypto';
import { eventually } from '../../../../test/eventually';
import { createEventStore, EventStoreHandle } from '../create-event-store';
import { AppendProbe, deferred, within } from '../testing/append-probes';
import { note, notedEvents as events } from '../testing/noted-events';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '../testing/test-database';

/**
 * Promise: a cancel, a statement timeout, a rollback or a dropped connection
 * never leaves the global append lock held, and a connection that may still
 * hold it is never handed out again. Each test stops an append at a chosen
 * step (waiting on a duplicate id, or inside the critical section) and then
 * cancels it; the next writer must get through at once.
 */
describe('appends are cancel-safe', () => {
  const schema = uniqueSchema();
  let es: EventStoreHandle;
  let probe: AppendProbe;
  beforeAll(async () => {
    es = await createEventStore({ url: TEST_DATABASE_URL, schema, events, poolSize: 6 });
    probe = await AppendProbe.open(schema);
  });
  afterAll(async () => {
    await probe?.close();
    await es?.close();
    await dropSchema(schema);
  });

  const nextWriterGetsThrough = async () => {
    expect(await probe.appendLockHolders()).toEqual([]);
    const next = es.store.appendToStream(`next-${randomUUID()}`, [note(3)]);
    await expect(within(3000, 'the next writer', next)).resolves.toMatchObject({ written: true });
  };

  it('a writer cancelled while its insert waits on an uncommitted duplicate event id leaves the lock free', async () => {
    const id = randomUUID();
    const appended = deferred();
    const release = deferred();
    const holder = es.store
      .inTransaction(async (q) => {
        await es.store.appendWithin(q, `holder-${randomUUID()}`, [note(1, id)]);
        appended.resolve();
        await release.promise;
        throw new Error('roll back on purpose');
      })
      .catch((e: Error) => e.message);
    await appended.promise;
    const writer = es.store.appendToStream(`dup-${randomUUID()}`, [note(2, id)]).then(
      () => 'written',
      (e: Error) => e,
    );
    const pid = await eventually(() => probe.waitingAppend(), 5000, 'the writer to wait on the duplicate id');
    await probe.cancel(pid);
    expect(await writer).toBeInstanceOf(Error);
    await nextWriterGetsThrough();
    release.resolve();
    expect(await holder).toBe('roll back on purpose');
  });

  it('a writer cancelled inside the critical section (holding the lock) releases it', async () => {
    const block = await probe.blockPositionDraws();
    try {
      const writer = es.store.appendToStream(`cs-${randomUUID()}`, [note(1)]).then(
        () => 'written',
        (e: Error) => e,
      );
      const pid = await eventually(() => probe.waitingAppend(), 5000, 'the writer to stop inside the critical section');
      expect(await probe.appendLockHolders()).toEqual([pid]);
      await probe.cancel(pid);
      expect(await writer).toBeInstanceOf(Error);
      expect(await probe.appendLockHolders()).toEqual([]);
    } finally {
      await block.release();
    }
    await nextWriterGetsThrough();
  });

  it('a connection dropped inside the critical section frees the lock and the pool recovers', async () => {
    const block = await probe.blockPositionDraws();
    try {
      const writer = es.store.appendToStream(`drop-${randomUUID()}`, [note(1)]).then(
        () => 'written',
        (e: Error) => e,
      );
      const pid = await eventually(() => probe.waitingAppend(), 5000, 'the writer to stop inside the critical section');
      await probe.terminate(pid);
      expect(await writer).toBeInstanceOf(Error);
    } finally {
      await block.release();
    }
    await eventually(async () => (await probe.appendLockHolders()).length === 0, 5000, 'the terminated session to end');
    await nextWriterGetsThrough();
  });

  it('a rolled-back transaction that appended leaves the lock free', async () => {
    await expect(
      es.store.inTransaction(async (q) => {
        await es.store.appendWithin(q, `rb-${randomUUID()}`, [note(1)]);
        throw new Error('roll back on purpose');
      }),
    ).rejects.toThrow('roll back on purpose');
    await nextWriterGetsThrough();
  });
});

describe('a statement timeout inside an append', () => {
  const schema = uniqueSchema();
  let es: EventStoreHandle;
  let probe: AppendProbe;
  beforeAll(async () => {
    es = await createEventStore({ url: TEST_DATABASE_URL, schema, events, poolSize: 1, statementTimeoutMs: 300 });
    probe = await AppendProbe.open(schema);
  });
  afterAll(async () => {
    await probe?.close();
    await es?.close();
    await dropSchema(schema);
  });

  const backendPid = async () => Number((await es.db.query<any>('SELECT pg_backend_pid() AS pid'))[0].pid);

  it('fails with EVENT_STORE.TIMEOUT, releases the lock, and the connection is replaced, not reused', async () => {
    const before = await backendPid();
    const block = await probe.blockPositionDraws();
    try {
      const failure = await within(
        5000,
        'the timed-out append',
        es.store.appendToStream(`t-${randomUUID()}`, [note(1)]).catch((e) => e),
      );
      expect(failure).toMatchObject({ code: 'EVENT_STORE.TIMEOUT' });
      expect(await probe.appendLockHolders()).toEqual([]);
    } finally {
      await block.release();
    }
    const after = await backendPid();
    expect(after).not.toBe(before);
    await eventually(async () => !(await probe.backendAlive(before)), 5000, 'the timed-out connection to be closed');
    await expect(es.store.appendToStream(`t-${randomUUID()}`, [note(2)])).resolves.toMatchObject({ written: true });
  });

  it('keeps the connection after a clean refusal (a concurrency conflict happens before the lock)', async () => {
    const before = await backendPid();
    await expect(es.store.appendToStream(`c-${randomUUID()}`, [note(1)], { expectedVersion: 3 })).rejects.toMatchObject({
      code: 'EVENT_STORE.CONCURRENCY_CONFLICT',
    });
    expect(await backendPid()).toBe(before);
  });
});
