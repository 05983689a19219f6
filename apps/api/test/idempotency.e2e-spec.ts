import request from 'supertest';
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { EVENT_STORE_HANDLE, type EventStoreHandle } from '@app/event-store';
import { TEST_DATABASE_URL } from '@app/event-store/testing';
import { eventually } from '../../../test/eventually';
import { startTwoInstances, type TwoInstances } from './two-instances';
import type { TestApp } from './test-app';

/**
 * Idempotency-Key across two instances sharing one database: a repeat answers the
 * stored response and appends nothing, a concurrent duplicate gets 409 at once, a
 * different request with the same key 422, and a 5xx releases the key.
 */
describe('Idempotency-Key on command routes, across two instances (e2e)', () => {
  let a: TestApp;
  let b: TestApp;
  let db: Client;
  const servers = () => [a.server, b.server];
  const email = () => `u.${randomUUID()}@example.com`;
  const key = () => `k-${randomUUID()}`;
  const eventsOf = async (streamId: string) =>
    Number((await db.query(`SELECT count(*) FROM "${a.schema}".events WHERE stream_id = $1`, [streamId])).rows[0].count);
  /** Registrations of an email in the log, read through the store: the stored email is encrypted (crypto-shredding). */
  const registrationsOf = async (address: string) => {
    let count = 0;
    for await (const e of a.app.get<EventStoreHandle>(EVENT_STORE_HANDLE).store.readAll()) {
      if (e.type === 'UserRegistered' && (e.data as { email?: string }).email === address) count++;
    }
    return count;
  };
  const register = (server: TestApp['server'], body: object, idempotencyKey?: string) => {
    const r = request(server).post('/users').send(body);
    return idempotencyKey ? r.set('Idempotency-Key', idempotencyKey) : r;
  };

  let instances: TwoInstances | undefined;
  beforeAll(async () => {
    instances = await startTwoInstances();
    ({ a, b, db } = instances);
  });
  afterAll(() => instances?.close());

  it('replays the first response (status, body, Location, ETag) on the other instance and appends nothing', async () => {
    const k = key();
    const body = { firstName: 'Ada', lastName: 'Lovelace', email: email() };
    const first = await register(a.server, body, k).expect(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    // The same request, keys of the body in another order, on the other instance.
    const again = await register(b.server, { email: body.email, lastName: 'Lovelace', firstName: 'Ada' }, `"${k}"`).expect(201);
    expect(again.body).toEqual(first.body);
    expect(again.headers).toMatchObject({ location: first.headers.location, etag: first.headers.etag, 'idempotent-replayed': 'true' });
    expect(await registrationsOf(body.email)).toBe(1);
  });

  it('answers 422 IDEMPOTENCY.KEY_REUSED to the same key with another request, and scopes keys by route', async () => {
    const k = key();
    const { body: user } = await register(a.server, { firstName: 'Grace', lastName: 'Hopper', email: email() }, k).expect(201);
    const reused = await register(b.server, { firstName: 'Grace', lastName: 'Hopper', email: email() }, k).expect(422);
    expect(reused.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(reused.body).toMatchObject({ status: 422, code: 'IDEMPOTENCY.KEY_REUSED' });
    // Another route is another scope: the key is fresh there; other path parameters are another request.
    await request(a.server).post(`/users/${user.id}/points`).set('Idempotency-Key', k).send({ points: 3, reason: 'r' }).expect(201);
    await request(b.server).post(`/users/${randomUUID()}/points`).set('Idempotency-Key', k).send({ points: 3, reason: 'r' }).expect(422);
    const renamed = await request(a.server)
      .put(`/users/${user.id}/name`)
      .set('Idempotency-Key', k)
      .set('If-Match', '2')
      .send({ firstName: 'G', lastName: 'H' })
      .expect(200);
    // If-Match is part of the request: "2" and W/"2" are the same precondition, 3 is not.
    const replayed = await request(b.server)
      .put(`/users/${user.id}/name`)
      .set('Idempotency-Key', k)
      .set('If-Match', 'W/"2"')
      .send({ firstName: 'G', lastName: 'H' })
      .expect(200);
    expect(replayed.body).toEqual(renamed.body);
    expect(replayed.headers.etag).toBe('"3"');
    await request(b.server)
      .put(`/users/${user.id}/name`)
      .set('Idempotency-Key', k)
      .set('If-Match', '3')
      .send({ firstName: 'G', lastName: 'H' })
      .expect(422);
    expect(await eventsOf(`user-${user.id}`)).toBe(3);
  });

  it('exactly one append for duplicates sent concurrently to both instances, then replays', async () => {
    const { body: user } = await register(a.server, { firstName: 'Alan', lastName: 'Turing', email: email() }).expect(201);
    const k = key();
    const award = (i: number) =>
      request(servers()[i % 2])
        .post(`/users/${user.id}/points`)
        .set('Idempotency-Key', k)
        .send({ points: 7, reason: 'once' });
    const burst = await Promise.all(Array.from({ length: 20 }, (_, i) => award(i)));
    const statuses = burst.map((r) => r.status);
    expect(statuses.every((s) => s === 201 || s === 409)).toBe(true);
    for (const conflict of burst.filter((r) => r.status === 409)) {
      expect(conflict.body.code).toBe('IDEMPOTENCY.IN_PROGRESS');
      expect(conflict.headers['retry-after']).toBe('1');
    }
    const retries = await Promise.all(Array.from({ length: 10 }, (_, i) => award(i)));
    const winner = burst.find((r) => r.status === 201 && !r.headers['idempotent-replayed'])!;
    expect(retries.map((r) => [r.status, r.body, r.headers['idempotent-replayed']])).toEqual(Array(10).fill([201, winner.body, 'true']));
    // 30 requests with one key: the registration plus exactly one award in the stream.
    expect(await eventsOf(`user-${user.id}`)).toBe(2);
  });

  it('answers a duplicate 409 IDEMPOTENCY.IN_PROGRESS at once while the first is still running', async () => {
    const address = email();
    const k = key();
    // Hold the first request inside its transaction: a competing, uncommitted reservation of its email.
    const blocker = new Client({ connectionString: TEST_DATABASE_URL });
    await blocker.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query(`INSERT INTO "${a.schema}".email_reservations (email, user_id, position) VALUES ($1, 'blocker', 0)`, [address]);
      const first = register(a.server, { firstName: 'Edsger', lastName: 'Dijkstra', email: address }, k).then((r) => r);
      await eventually(
        async () => {
          const { rows } = await db.query(
            `SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%email_reservations%' AND pid <> $1`,
            [(blocker as unknown as { processID: number }).processID],
          );
          return Number(rows[0].count) > 0;
        },
        10_000,
        'the first request to block on the reservation',
      );
      const started = Date.now();
      const duplicate = await register(b.server, { firstName: 'Edsger', lastName: 'Dijkstra', email: address }, k).expect(409);
      expect(Date.now() - started).toBeLessThan(1000);
      expect(duplicate.headers['retry-after']).toBe('1');
      expect(duplicate.body).toMatchObject({ code: 'IDEMPOTENCY.IN_PROGRESS', status: 409 });
      await blocker.query('ROLLBACK');
      const done = await first;
      expect(done.status).toBe(201);
      const replay = await register(b.server, { firstName: 'Edsger', lastName: 'Dijkstra', email: address }, k).expect(201);
      expect(replay.body).toEqual(done.body);
      expect(await registrationsOf(address)).toBe(1);
    } finally {
      await blocker.end();
    }
  });

  it('stores 4xx outcomes and replays them as problem+json', async () => {
    const k = key();
    const missing = randomUUID();
    const first = await request(a.server)
      .post(`/users/${missing}/points`)
      .set('Idempotency-Key', k)
      .send({ points: 1, reason: 'x' })
      .expect(404);
    const again = await request(b.server)
      .post(`/users/${missing}/points`)
      .set('Idempotency-Key', k)
      .send({ points: 1, reason: 'x' })
      .expect(404);
    expect(again.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
    const invalid = await register(a.server, { firstName: '' }, k).expect(400);
    expect((await register(b.server, { firstName: '' }, k).expect(400)).body).toEqual(invalid.body);
  });

  it('releases the key on a 5xx, so the retry after the outage runs (once)', async () => {
    const k = key();
    const body = { firstName: 'Barbara', lastName: 'Liskov', email: email() };
    // A fault inside the registration's transaction, after its append: the database refuses the reservation.
    await db.query(`CREATE FUNCTION "${a.schema}".refuse() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'injected fault'; END $$`);
    await db.query(
      `CREATE TRIGGER refuse BEFORE INSERT ON "${a.schema}".email_reservations FOR EACH ROW EXECUTE FUNCTION "${a.schema}".refuse()`,
    );
    try {
      const failed = await register(a.server, body, k).expect(500);
      expect(failed.body.code).toBe('INTERNAL');
    } finally {
      await db.query(`DROP TRIGGER refuse ON "${a.schema}".email_reservations`);
    }
    expect(await registrationsOf(body.email)).toBe(0);
    const retried = await register(b.server, body, k).expect(201);
    expect(retried.headers['idempotent-replayed']).toBeUndefined();
    expect(await registrationsOf(body.email)).toBe(1);
  });

  it('refuses a malformed key with 400 and appends nothing; without a key nothing changes', async () => {
    const body = { firstName: 'Ken', lastName: 'Thompson', email: email() };
    for (const bad of ['', 'a b', 'x'.repeat(256), 'clé']) {
      const res = await register(a.server, body, undefined).set('Idempotency-Key', bad).expect(400);
      expect(res.body.code).toBe('REQUEST.INVALID_IDEMPOTENCY_KEY');
    }
    expect(await registrationsOf(body.email)).toBe(0);
    const { body: user } = await register(a.server, body).expect(201);
    await request(a.server).post(`/users/${user.id}/points`).send({ points: 1, reason: 'twice' }).expect(201);
    await request(b.server).post(`/users/${user.id}/points`).send({ points: 1, reason: 'twice' }).expect(201);
    expect(await eventsOf(`user-${user.id}`)).toBe(3);
  });

  it('documents the header and the new responses in OpenAPI', async () => {
    const { body: doc } = await request(a.server).get('/docs-json').expect(200);
    for (const [path, method] of [
      ['/users', 'post'],
      ['/users/{id}/name', 'put'],
      ['/users/{id}/points', 'post'],
    ]) {
      const op = doc.paths[path][method];
      expect(op.parameters).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'Idempotency-Key', in: 'header' })]));
      expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['400', '409', '422']));
    }
  });
});
