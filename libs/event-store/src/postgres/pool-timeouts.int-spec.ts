import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { eventually } from '../../../../test/eventually';
import { createEventStore, EventStoreHandle } from '../create-event-store';
import { AppendProbe, deferred } from '../testing/append-probes';
import { note, notedEvents as events } from '../testing/noted-events';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '../testing/test-database';
import { logLockKeys } from './lock-keys';

/**
 * Promise: every pooled connection carries the configured statement and
 * idle-in-transaction timeouts, so no statement and no forgotten transaction
 * holds locks (or holds back global readers) past them; migrations are exempt.
 */
describe('pool timeouts on PostgreSQL', () => {
  const schema = uniqueSchema();
  let es: EventStoreHandle | undefined;
  let probe: AppendProbe;
  beforeAll(async () => {
    probe = await AppendProbe.open(schema);
  });
  afterAll(async () => {
    await es?.close();
    await probe?.close();
    await dropSchema(schema);
  });

  it('migrations wait for another migrator longer than the statement timeout, then the pool runs with the timeouts', async () => {
    const other = new Client({ connectionString: TEST_DATABASE_URL });
    await other.connect();
    const [k1, k2] = logLockKeys(schema).migrations;
    await other.query('SELECT pg_advisory_lock($1, $2)', [k1, k2]);
    const starting = createEventStore({ url: TEST_DATABASE_URL, schema, events, statementTimeoutMs: 200, idleInTransactionTimeoutMs: 400 });
    const migratorWaits = async () =>
      (
        await other.query(
          `SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND classid = $1::int::oid AND objid = $2::int::oid`,
          [k1, k2],
        )
      ).rows.length > 0;
    await eventually(migratorWaits, 5000, 'the migrator to wait for the lock');
    // Time is the subject here: three statement timeouts pass and the migrator is still waiting, not cancelled.
    await sleep(600);
    expect(await migratorWaits()).toBe(true);
    await other.query('SELECT pg_advisory_unlock($1, $2)', [k1, k2]);
    await other.end();
    es = await starting;
    const [settings] = await es.db.query(
      `SELECT current_setting('statement_timeout') AS statement, current_setting('idle_in_transaction_session_timeout') AS idle`,
    );
    expect(settings).toEqual({ statement: '200ms', idle: '400ms' });
  });

  it('a statement past the timeout fails with EVENT_STORE.TIMEOUT', async () => {
    await expect(es!.store.inTransaction((q) => q.query('SELECT pg_sleep(1)'))).rejects.toMatchObject({ code: 'EVENT_STORE.TIMEOUT' });
  });

  it('a bulk session runs past the statement timeout and the client-side bound (1200 ms here): both exempt it', async () => {
    await expect(
      es!.store.withBulkSession(async (client) => (await client.query('SELECT pg_sleep(1.5), 1 AS ok')).rows[0]),
    ).resolves.toMatchObject({
      ok: 1,
    });
  });

  it('a transaction left idle past the timeout is ended by the server: its writes are gone, its locks free, the pool recovers', async () => {
    const stream = `idle-${randomUUID()}`;
    const ended = deferred<number>();
    const outcome = es!.store.inTransaction(async (q) => {
      await es!.store.appendWithin(q, stream, [note(1)]);
      const [{ pid }] = await q.query<any>('SELECT pg_backend_pid() AS pid');
      ended.resolve(pid);
      await eventually(async () => !(await probe.backendAlive(pid)), 5000, 'the server to end the idle transaction');
      await q.query('SELECT 1');
    });
    await expect(outcome).rejects.toThrow();
    expect(await es!.store.streamVersion(stream)).toBe(0);
    await expect(es!.store.appendToStream(stream, [note(2)], { expectedVersion: 'no_stream' })).resolves.toMatchObject({ written: true });
  });
});
