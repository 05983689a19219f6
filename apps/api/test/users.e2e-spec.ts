import request from 'supertest';
import { randomUUID } from 'node:crypto';
import { startTestApp, TestApp } from './test-app';

describe('users API (e2e)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t?.close());

  /** Reads with X-Min-Position: the read model is asynchronous, so a client reads its own write this way. */
  const read = (id: string, position: number) => request(t.server).get(`/users/${id}`).set('X-Min-Position', String(position));
  /** Emails are unique: each registration gets its own (mixed case, stored lower-cased). */
  const register = (body: object = { firstName: 'Ada', lastName: 'Lovelace', email: `Ada.${randomUUID()}@Example.com` }) =>
    request(t.server).post('/users').send(body);

  it('registers, reads, renames with If-Match and awards points', async () => {
    const email = `Ada.${randomUUID()}@Example.com`;
    const created = await register({ firstName: 'Ada', lastName: 'Lovelace', email }).expect(201);
    expect(created.body).toEqual({ id: expect.any(String), version: 1, position: expect.any(Number) });
    expect(created.headers.location).toBe(`/users/${created.body.id}`);
    const id = created.body.id;

    const first = await read(id, created.body.position).expect(200);
    expect(first.body).toEqual({ id, firstName: 'Ada', lastName: 'Lovelace', email: email.toLowerCase(), points: 0, version: 1 });
    expect(first.headers.etag).toBe('"1"');

    const renamed = await request(t.server)
      .put(`/users/${id}/name`)
      .set('If-Match', '"1"')
      .send({ firstName: 'Augusta', lastName: 'King' })
      .expect(200);
    expect(renamed.body).toMatchObject({ id, version: 2 });
    expect(renamed.headers.etag).toBe('"2"');
    expect(renamed.body.position).toBeGreaterThan(created.body.position);

    const stale = await request(t.server)
      .put(`/users/${id}/name`)
      .set('If-Match', '1')
      .send({ firstName: 'Ada', lastName: 'Byron' })
      .expect(409);
    expect(stale.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(stale.body).toMatchObject({ status: 409, code: 'EVENT_STORE.CONCURRENCY_CONFLICT' });

    const points = await request(t.server).post(`/users/${id}/points`).send({ points: 10, reason: 'first' }).expect(201);
    expect(points.body).toMatchObject({ id, version: 3 });
    const second = await request(t.server).post(`/users/${id}/points`).send({ points: 5, reason: 'second' }).expect(201);

    const after = await read(id, second.body.position).expect(200);
    expect(after.body).toMatchObject({ firstName: 'Augusta', lastName: 'King', points: 15, version: 4 });
  });

  it('reads its own write on the first try, even over a cached older value (X-Min-Position)', async () => {
    const { body: user } = await register().expect(201);
    const cached = await read(user.id, user.position).expect(200);
    expect(cached.body.points).toBe(0);
    const again = await request(t.server).get(`/users/${user.id}`).expect(200);
    expect(again.headers['x-cache']).toBe('HIT');
    const award = await request(t.server).post(`/users/${user.id}/points`).send({ points: 7, reason: 'fresh' }).expect(201);
    const fresh = await read(user.id, award.body.position).expect(200);
    expect(fresh.body).toMatchObject({ points: 7, version: 2 });
    expect(Number(fresh.headers['x-read-position'])).toBeGreaterThanOrEqual(award.body.position);
    await request(t.server).get(`/users/${user.id}`).set('X-Min-Position', 'soon').expect(400);
  });

  it('keeps every concurrent points award (conflicts are retried, none lost)', async () => {
    const { body } = await register().expect(201);
    const results = await Promise.all(
      Array.from({ length: 8 }, () => request(t.server).post(`/users/${body.id}/points`).send({ points: 1, reason: 'burst' })),
    );
    expect(results.map((r) => r.status)).toEqual(Array(8).fill(201));
    const after = await read(body.id, Math.max(...results.map((r) => r.body.position))).expect(200);
    expect(after.body).toMatchObject({ points: 8, version: 9 });
  });

  it('answers 404 problem+json for an unknown user', async () => {
    const res = await request(t.server).get(`/users/${randomUUID()}`).expect(404);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.body).toMatchObject({ status: 404, code: 'USERS.NOT_FOUND', title: 'Not Found' });
    await request(t.server).post(`/users/${randomUUID()}/points`).send({ points: 1, reason: 'x' }).expect(404);
  });

  it.each([
    ['unknown field', { firstName: 'A', lastName: 'B', email: 'a@b.co', admin: true }, ['admin']],
    ['missing fields', {}, ['firstName', 'lastName', 'email']],
    ['wrong types', { firstName: 1, lastName: [], email: 'nope' }, ['firstName', 'lastName', 'email']],
    ['blank first name', { firstName: '   ', lastName: 'B', email: 'a@b.co' }, ['firstName']],
  ])('rejects %s with 400 listing each field', async (_name, body, fields) => {
    const res = await register(body).expect(400);
    expect(res.body.code).toBe('REQUEST.VALIDATION_FAILED');
    expect(res.body.errors.map((e: { field: string }) => e.field).sort()).toEqual([...fields].sort());
  });

  it.each([
    ['zero', { points: 0, reason: 'x' }],
    ['fraction', { points: 1.5, reason: 'x' }],
    ['string', { points: '5', reason: 'x' }],
    ['negative', { points: -3, reason: 'x' }],
    ['no reason', { points: 3 }],
  ])('rejects %s points with 400', async (_name, body) => {
    const { body: user } = await register().expect(201);
    const res = await request(t.server).post(`/users/${user.id}/points`).send(body).expect(400);
    expect(res.body.code).toBe('REQUEST.VALIDATION_FAILED');
  });

  it('answers 400, never 500, to malformed input', async () => {
    const bad = await request(t.server).post('/users').set('content-type', 'application/json').send('{"firstName":').expect(400);
    expect(bad.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(bad.body.code).toBe('REQUEST.MALFORMED');
    await request(t.server).post('/users').set('content-type', 'application/json').send('[1,2]').expect(400);
    await request(t.server).get('/users/not-a-uuid').expect(400);
    const { body } = await register().expect(201);
    await request(t.server).put(`/users/${body.id}/name`).set('If-Match', 'abc').send({ firstName: 'A', lastName: 'B' }).expect(400);
    const text = await request(t.server).post('/users').set('content-type', 'text/plain').send('firstName=A').expect(415);
    expect(text.body.code).toBe('REQUEST.UNSUPPORTED_MEDIA_TYPE');
  });

  it('answers 413 to an oversized body and stores nothing', async () => {
    const res = await register({ firstName: 'A'.repeat(200_000), lastName: 'B', email: 'a@b.co' }).expect(413);
    expect(res.body).toMatchObject({ status: 413, code: 'REQUEST.TOO_LARGE' });
  });

  it('serves liveness, readiness and OpenAPI', async () => {
    await request(t.server).get('/health/live').expect(200, { status: 'ok' });
    const ready = await request(t.server).get('/health/ready').expect(200);
    expect(ready.body).toEqual({ status: 'ok', checks: { database: 'up', migrations: 'applied', projections: 'running' } });
    const docs = await request(t.server).get('/docs-json').expect(200);
    expect(Object.keys(docs.body.paths)).toEqual(expect.arrayContaining(['/users', '/users/{id}', '/users/{id}/name']));
  });
});
