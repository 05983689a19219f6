import request from 'supertest';
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { createEventStore, EVENT_STORE_HANDLE, type EventStoreHandle } from '@app/event-store';
import { userEvents } from '../src/users/events';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '@app/event-store/testing';
import { eventually } from '../../../test/eventually';
import { startTwoInstances, type TwoInstances } from './two-instances';
import { startTestApp, TestApp, TEST_ADMIN_TOKEN } from './test-app';

const auth = { Authorization: `Bearer ${TEST_ADMIN_TOKEN}` };

/** Unique emails through a reservation row committed with the registration's events. */
describe('unique emails across two instances (e2e)', () => {
  let a: TestApp;
  let b: TestApp;
  let db: Client;
  const email = () => `u.${randomUUID()}@example.com`;
  /**
   * Registrations of `address` in the log, read decrypted (emails are stored encrypted), stream
   * by stream: a global read would wait for every older transaction of the shared server.
   */
  const registrations = async (address: string) => {
    const es = a.app.get<EventStoreHandle>(EVENT_STORE_HANDLE);
    const { rows } = await db.query<{ stream_id: string }>(`SELECT stream_id FROM "${a.schema}".events WHERE type = 'UserRegistered'`);
    let count = 0;
    for (const { stream_id } of rows) {
      for await (const e of es.store.readStream<{ email?: string }>(stream_id)) {
        if (e.type === 'UserRegistered' && e.data.email?.toLowerCase() === address.toLowerCase()) count++;
      }
    }
    return count;
  };

  let instances: TwoInstances | undefined;
  beforeAll(async () => {
    instances = await startTwoInstances();
    ({ a, b, db } = instances);
  });
  afterAll(() => instances?.close());

  it('answers 409 USERS.EMAIL_TAKEN to a taken email in any case, and appends nothing', async () => {
    const address = email();
    await request(a.server).post('/users').send({ firstName: 'Ada', lastName: 'L', email: address }).expect(201);
    const taken = await request(b.server)
      .post('/users')
      .send({ firstName: 'Eve', lastName: 'X', email: address.toUpperCase() })
      .expect(409);
    expect(taken.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(taken.body).toMatchObject({ status: 409, code: 'USERS.EMAIL_TAKEN', title: 'Conflict' });
    expect(await registrations(address)).toBe(1);
  });

  it('10 concurrent registrations of one email over two instances create exactly one user', async () => {
    const address = email();
    const variants = [address, address.toUpperCase(), address.replace('u.', 'U.')];
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        request([a.server, b.server][i % 2])
          .post('/users')
          .send({ firstName: `N${i}`, lastName: 'L', email: variants[i % 3] }),
      ),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([201, ...Array(9).fill(409)]);
    expect(results.filter((r) => r.status === 409).every((r) => r.body.code === 'USERS.EMAIL_TAKEN')).toBe(true);
    expect(await registrations(address)).toBe(1);
    const winner = results.find((r) => r.status === 201)!.body;
    const { rows } = await db.query(`SELECT user_id FROM "${a.schema}".email_reservations WHERE email = $1`, [address.toLowerCase()]);
    expect(rows).toEqual([{ user_id: winner.id }]);
  });

  it('import reserves imported emails and reports, without merging, registrations whose email is taken', async () => {
    const existing = email();
    const { body: holder } = await request(a.server).post('/users').send({ firstName: 'Ada', lastName: 'L', email: existing }).expect(201);
    const [dupId, freshId] = [randomUUID(), randomUUID()];
    const fresh = email();
    const line = (userId: string, address: string) =>
      JSON.stringify({
        eventId: randomUUID(),
        streamId: `user-${userId}`,
        streamVersion: 1,
        type: 'UserRegistered',
        schemaVersion: 1,
        data: { fullName: 'Legacy Person', email: address },
        recordedAt: '2019-01-01T00:00:00.000Z',
      });
    const imported = await request(b.server)
      .post('/admin/events/import')
      .set(auth)
      .set('content-type', 'application/x-ndjson')
      .send(`${line(dupId, existing.toUpperCase())}\n${line(freshId, fresh)}\n`)
      .expect(200);
    expect(imported.body).toMatchObject({ imported: 2, skipped: 0 });
    expect(imported.body.duplicateEmails).toEqual([{ email: existing, userId: dupId, position: expect.any(Number), heldBy: holder.id }]);
    expect(imported.body.duplicateEmailCount).toBe(1);
    // Both imported users exist (nothing merged); the imported, unique email is now reserved.
    expect(await registrations(existing)).toBe(2);
    const taken = await request(a.server).post('/users').send({ firstName: 'New', lastName: 'Comer', email: fresh }).expect(409);
    expect(taken.body.code).toBe('USERS.EMAIL_TAKEN');

    // Verify reads up to the head readable when it starts: wait until no older transaction in the cluster holds it below the import.
    await eventually(
      async () =>
        (await request(a.server).get('/admin/projections').set(auth).expect(200)).body.projections[0].head >= imported.body.position,
      10_000,
      'the log to settle through the import',
    );
    const verify = await request(a.server).post('/admin/events/verify').set(auth).expect(200);
    expect(verify.body.duplicateEmails).toEqual([expect.objectContaining({ email: existing, userId: dupId, heldBy: holder.id })]);
    expect(verify.body.duplicateEmailCount).toBe(1);
  });
});

describe('email reservations backfilled from an existing log (migration)', () => {
  const schema = uniqueSchema('backfill');
  let t: TestApp | undefined;
  afterAll(async () => {
    await t?.close();
    await dropSchema(schema);
  });

  it('reserves each email for its earliest registration and lists the later ones', async () => {
    // A log written before reservations existed (the store's own migrations only).
    const legacy = await createEventStore({ url: TEST_DATABASE_URL, schema, events: userEvents });
    const register = (id: string, address: string, v: 1 | 2) =>
      legacy.store.appendToStream(`user-${id}`, [
        v === 1
          ? { type: 'UserRegistered', schemaVersion: 1, data: { fullName: 'Old Timer', email: address } }
          : { type: 'UserRegistered', schemaVersion: 2, data: { firstName: 'New', lastName: 'Comer', email: address } },
      ]);
    await register('first', 'Shared@Example.com', 1);
    const later = await register('second', 'shared@example.com', 2);
    const alone = await register('alone', 'alone@example.com', 2);
    await legacy.close();

    t = await startTestApp({ EVENT_STORE_SCHEMA: schema });
    const db = new Client({ connectionString: TEST_DATABASE_URL });
    await db.connect();
    try {
      const { rows } = await db.query(`SELECT email, user_id FROM "${schema}".email_reservations ORDER BY email`);
      expect(rows).toEqual([
        { email: 'alone@example.com', user_id: 'alone' },
        { email: 'shared@example.com', user_id: 'first' },
      ]);
    } finally {
      await db.end();
    }
    await request(t.server).post('/users').send({ firstName: 'X', lastName: 'Y', email: 'SHARED@example.com' }).expect(409);
    // Verify checks the log up to the settled head: wait until no older transaction in the cluster holds it below our events.
    await eventually(
      async () => {
        const { body } = await request(t!.server).get('/admin/projections').set(auth).expect(200);
        return body.projections[0].head >= alone.position;
      },
      10_000,
      'the log to settle through the legacy registrations',
    );
    const verify = await request(t.server).post('/admin/events/verify').set(auth).expect(200);
    expect(verify.body.duplicateEmails).toEqual([
      { email: 'shared@example.com', userId: 'second', position: later.position, heldBy: 'first' },
    ]);
  });
});
