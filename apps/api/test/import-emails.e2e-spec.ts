import request from 'supertest';
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { createEventStore } from '@app/event-store';
import { EmailReservations1710000000001 } from '../src/migrations/1710000000001-email-reservations';
import { IdempotencyKeys1710000000002 } from '../src/migrations/1710000000002-idempotency-keys';
import { userEvents } from '../src/users/events';
import { eventually } from '../../../test/eventually';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '@app/event-store/testing';
import { startTestApp, TestApp, TEST_ADMIN_TOKEN } from './test-app';

const auth = { Authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
/** An export line of a v1 registration (legacy history: the address as it was typed). */
const registration = (userId: string, email: string) =>
  JSON.stringify({
    eventId: randomUUID(),
    streamId: `user-${userId}`,
    streamVersion: 1,
    type: 'UserRegistered',
    schemaVersion: 1,
    data: { fullName: 'Legacy Person', email },
    recordedAt: '2019-01-01T00:00:00.000Z',
  }) + '\n';

/** Imported registrations take their emails in the transaction that writes them: no later pass to miss or wait for. */
describe('imported registrations reserve their emails with their events (e2e)', () => {
  let t: TestApp;
  let db: Client;
  const email = () => `imp.${randomUUID()}@example.com`;
  const importLines = (body: string) =>
    request(t.server).post('/admin/events/import').set(auth).set('content-type', 'application/x-ndjson').send(body);
  const register = (address: string) => request(t.server).post('/users').send({ firstName: 'New', lastName: 'Comer', email: address });

  beforeAll(async () => {
    t = await startTestApp();
    db = new Client({ connectionString: TEST_DATABASE_URL });
    await db.connect();
  });
  afterAll(async () => {
    await db?.end();
    await t?.close();
  });

  it('behind another session holding a transaction id, the import still reserves: a registration in other case gets 409', async () => {
    const [address, twice] = [email(), email()];
    const [first, second, third] = [randomUUID(), randomUUID(), randomUUID()];
    const blocker = new Client({ connectionString: TEST_DATABASE_URL });
    await blocker.connect();
    try {
      // Holds back every global reader: the imported events are not readable until it ends.
      await blocker.query('BEGIN');
      await blocker.query('SELECT pg_current_xact_id()');
      const imported = await importLines(
        registration(first, address) + registration(second, twice) + registration(third, twice.toUpperCase()),
      );
      expect(imported.status).toBe(200);
      const taken = await register(address.toUpperCase()).expect(409);
      expect(taken.body.code).toBe('USERS.EMAIL_TAKEN');
      expect(imported.body).toMatchObject({ imported: 3, skipped: 0, duplicateEmailCount: 1 });
      // Earliest registration wins; the later one is reported, not merged.
      expect(imported.body.duplicateEmails).toEqual([{ email: twice, userId: third, position: expect.any(Number), heldBy: second }]);
    } finally {
      await blocker.query('ROLLBACK');
      await blocker.end();
    }
  });

  it('an import that fails between its events and their reservations keeps neither; the re-run ends with every email reserved', async () => {
    const address = email();
    const body = registration(randomUUID(), address);
    // A fault where the old separate pass ran: the database refuses the reservations.
    await db.query(`CREATE FUNCTION "${t.schema}".refuse() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'injected fault'; END $$`);
    await db.query(
      `CREATE TRIGGER refuse BEFORE INSERT ON "${t.schema}".email_reservations FOR EACH ROW EXECUTE FUNCTION "${t.schema}".refuse()`,
    );
    try {
      expect((await importLines(body)).status).toBe(500);
    } finally {
      await db.query(`DROP TRIGGER refuse ON "${t.schema}".email_reservations`);
    }
    expect((await importLines(body).expect(200)).body).toMatchObject({ imported: 1, skipped: 0, duplicateEmails: [] });
    await register(address).expect(409);
  });
});

describe('reservations folded as the app folds (migration 1710000000003)', () => {
  const schema = uniqueSchema('fold');
  const contested = uniqueSchema('fold2');
  let t: TestApp | undefined;
  afterAll(async () => {
    await t?.close();
    await dropSchema(schema);
    await dropSchema(contested);
  });

  it('a backfilled address that SQL lower() folds differently cannot be registered again in another case', async () => {
    const id = randomUUID().slice(0, 8);
    // A log written before reservations existed: 'İnci' and 'inci' are two addresses to JavaScript's fold.
    const legacy = await createEventStore({ url: TEST_DATABASE_URL, schema, events: userEvents });
    const register = (user: string, address: string) =>
      legacy.store.appendToStream(`user-${user}`, [
        { type: 'UserRegistered', schemaVersion: 1, data: { fullName: 'Old Timer', email: address } },
      ]);
    await register('dotted', `İnci.${id}@example.com`);
    await register('plain', `inci.${id}@example.com`);
    await legacy.close();

    t = await startTestApp({ EVENT_STORE_SCHEMA: schema });
    const db = new Client({ connectionString: TEST_DATABASE_URL });
    await db.connect();
    try {
      const { rows } = await db.query(`SELECT email, user_id FROM "${schema}".email_reservations ORDER BY user_id`);
      expect(rows).toEqual([
        { email: `İnci.${id}@example.com`.toLowerCase(), user_id: 'dotted' },
        { email: `inci.${id}@example.com`, user_id: 'plain' },
      ]);
    } finally {
      await db.end();
    }
    const taken = await request(t.server)
      .post('/users')
      .send({ firstName: 'X', lastName: 'Y', email: `İNCI.${id}@example.com` })
      .expect(409);
    expect(taken.body.code).toBe('USERS.EMAIL_TAKEN');
  });
  it('a backfilled reservation moved to the app fold goes to the earliest registration; the later one is listed by verify', async () => {
    const id = randomUUID().slice(0, 8);
    const dotted = `İnci.${id}@example.com`;
    // Released versions: the backfill folded 'İnci' with lower() to 'inci'; the app then let 'İNCI' (JS: 'i̇nci') register again.
    const legacy = await createEventStore({ url: TEST_DATABASE_URL, schema: contested, events: userEvents });
    await legacy.store.appendToStream('user-first', [
      { type: 'UserRegistered', schemaVersion: 1, data: { fullName: 'Old Timer', email: dotted } },
    ]);
    await legacy.close();
    const released = await createEventStore({
      url: TEST_DATABASE_URL,
      schema: contested,
      events: userEvents,
      migrations: [EmailReservations1710000000001, IdempotencyKeys1710000000002],
    });
    const late = await released.store.inTransaction(async (q) => {
      const r = await released.store.appendWithin(q, 'user-late', [
        { type: 'UserRegistered', schemaVersion: 2, data: { firstName: 'La', lastName: 'Te', email: dotted.toUpperCase().toLowerCase() } },
      ]);
      await q.query(`INSERT INTO "${contested}".email_reservations (email, user_id, position) VALUES ($1, 'late', $2)`, [
        dotted.toUpperCase().toLowerCase(),
        r.position,
      ]);
      return r;
    });
    await released.close();

    await t?.close();
    t = await startTestApp({ EVENT_STORE_SCHEMA: contested });
    const db = new Client({ connectionString: TEST_DATABASE_URL });
    await db.connect();
    try {
      const { rows } = await db.query(`SELECT email, user_id FROM "${contested}".email_reservations`);
      expect(rows).toEqual([{ email: dotted.toLowerCase(), user_id: 'first' }]);
    } finally {
      await db.end();
    }
    await eventually(
      async () => (await request(t!.server).get('/admin/projections').set(auth).expect(200)).body.projections[0].head >= late.position,
      10_000,
      'the log to settle through the registrations',
    );
    const verify = await request(t.server).post('/admin/events/verify').set(auth).expect(200);
    expect(verify.body.duplicateEmails).toEqual([
      { email: dotted.toLowerCase(), userId: 'late', position: late.position, heldBy: 'first' },
    ]);
    // 'inci' (no dot) is another address to the app's fold: no longer held by the backfill.
    await request(t.server)
      .post('/users')
      .send({ firstName: 'X', lastName: 'Y', email: `inci.${id}@example.com` })
      .expect(201);
  });
});
