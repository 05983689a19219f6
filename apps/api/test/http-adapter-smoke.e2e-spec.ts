import request from 'supertest';
import { randomUUID } from 'node:crypto';
import { TEST_REDIS_URL } from '@app/stampede-cache/testing';
import { eventually } from '../../../test/eventually';
import { loadConfig } from '../src/config/app-config';
import { startTestApp, TestApp, TEST_ADMIN_TOKEN } from './test-app';

/**
 * The whole e2e suite runs on the default HTTP platform (or on the run's HTTP_ADAPTER);
 * this smoke subset runs the same contract on the other one in every `npm test`: health,
 * writes and reads with their headers, problem+json on bad input, cached reads, the
 * streamed admin import and export, OpenAPI, metrics by route template.
 */
const DEFAULT_ADAPTER = process.env.HTTP_ADAPTER ?? loadConfig({}).HTTP_ADAPTER;
const OTHER_ADAPTER = DEFAULT_ADAPTER === 'express' ? 'fastify' : 'express';
const auth = { Authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
const securityHeaders = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'SAMEORIGIN',
  'strict-transport-security': expect.stringContaining('max-age='),
  'content-security-policy': expect.stringContaining("default-src 'self'"),
};

describe(`the HTTP contract on ${OTHER_ADAPTER} (smoke, e2e)`, () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ HTTP_ADAPTER: OTHER_ADAPTER });
  });
  afterAll(() => t?.close());

  const register = (email = `Ada.${randomUUID()}@Example.com`) =>
    request(t.server).post('/users').send({ firstName: 'Ada', lastName: 'Lovelace', email });

  it('serves liveness and readiness with the security headers', async () => {
    const live = await request(t.server).get('/health/live').expect(200, { status: 'ok' });
    expect(live.headers).toMatchObject(securityHeaders);
    expect(live.headers['x-powered-by']).toBeUndefined();
    expect(live.headers.etag).toBeUndefined();
    const ready = await request(t.server).get('/health/ready').expect(200);
    expect(ready.body).toMatchObject({ status: 'ok', checks: { database: 'up', migrations: 'applied' } });
  });

  it('registers and reads a user with Location, ETag, X-Cache and X-Read-Position; the second read is a cache hit', async () => {
    const created = await register().expect(201);
    expect(created.headers).toMatchObject({ location: `/users/${created.body.id}`, etag: '"1"', ...securityHeaders });
    const first = await request(t.server).get(`/users/${created.body.id}`).set('X-Min-Position', String(created.body.position)).expect(200);
    expect(first.headers).toMatchObject({ etag: '"1"', 'x-read-position': String(created.body.position) });
    expect(['MISS', 'HIT']).toContain(first.headers['x-cache']);
    const again = await request(t.server).get(`/users/${created.body.id}`).expect(200);
    expect(again.headers).toMatchObject({ 'x-cache': 'HIT', etag: '"1"', 'x-read-position': String(created.body.position) });
    expect(again.body).toMatchObject({ id: created.body.id, firstName: 'Ada', email: expect.stringMatching(/^ada\./) });
  });

  it('answers bad input with problem+json, as on the default platform', async () => {
    const json = () => request(t.server).post('/users').set('content-type', 'application/json');
    const malformed = await json().send('{"firstName":').expect(400);
    expect(malformed.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(malformed.headers).toMatchObject(securityHeaders);
    expect(malformed.body).toMatchObject({ status: 400, code: 'REQUEST.MALFORMED', instance: '/users' });
    expect((await json().send('"just a string"').expect(400)).body.code).toBe('REQUEST.MALFORMED');
    // An empty JSON body is `{}` (Express' rule): each missing field is listed, not a parse error.
    const empty = await json().send('').expect(400);
    expect(empty.body.code).toBe('REQUEST.VALIDATION_FAILED');
    expect(empty.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['email', 'firstName', 'lastName']);
    const tooLarge = await request(t.server)
      .post('/users')
      .send({ firstName: 'A'.repeat(200_000), lastName: 'B', email: 'a@b.co' });
    expect(tooLarge.body).toMatchObject({ status: 413, code: 'REQUEST.TOO_LARGE' });
    const text = await request(t.server).post('/users').set('content-type', 'text/plain').send('firstName=A').expect(415);
    expect(text.body.code).toBe('REQUEST.UNSUPPORTED_MEDIA_TYPE');
    const xml = await request(t.server).post('/users').set('content-type', 'application/xml').send('<a/>').expect(415);
    expect(xml.body.code).toBe('REQUEST.UNSUPPORTED_MEDIA_TYPE');
    expect((await request(t.server).get('/users/not-a-uuid').expect(400)).body.code).toBe('REQUEST.INVALID_ID');
    // A path the router cannot decode, and path parameters up to the admin API's own limit (Fastify's router has one of 100).
    const undecodable = await request(t.server).get('/admin/streams/user-%/events').set(auth).expect(400);
    expect(undecodable.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(undecodable.headers).toMatchObject(securityHeaders);
    expect(undecodable.body).toMatchObject({ status: 400, code: 'REQUEST.MALFORMED' });
    await request(t.server)
      .get(`/admin/streams/${'s'.repeat(200)}/events`)
      .set(auth)
      .expect(200, { streamId: 's'.repeat(200), events: [] });
    expect(
      (
        await request(t.server)
          .get(`/admin/streams/${'s'.repeat(201)}/events`)
          .set(auth)
          .expect(400)
      ).body.code,
    ).toBe('REQUEST.INVALID_STREAM_ID');
    const unknown = await request(t.server).get('/no/such/route').expect(404);
    expect(unknown.body).toMatchObject({ code: 'HTTP.ROUTE_NOT_FOUND', instance: '/no/such/route' });
    const unauthenticated = await request(t.server).post('/admin/events/verify').expect(401);
    expect(unauthenticated.headers['www-authenticate']).toBe('Bearer');
  });

  it('streams the export through the reply and imports NDJSON as a stream', async () => {
    const { body: user } = await register().expect(201);
    const exportLog = () =>
      request(t.server)
        .get('/admin/events/export')
        .set(auth)
        .buffer(true)
        .parse((res, cb) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => cb(null, text));
        })
        .expect(200);
    // The export reads the log up to what no open transaction in the cluster can still precede (the global order).
    const exported = await eventually(
      async () => {
        const res = await exportLog();
        return (res.body as string).includes(user.id) ? res : undefined;
      },
      10_000,
      'the registration to be exported',
    );
    expect(exported.headers['content-type']).toMatch(/^application\/x-ndjson/);
    expect(exported.headers).toMatchObject(securityHeaders);
    const lines = (exported.body as string).trim().split('\n');
    const registered = JSON.parse(lines.find((l) => l.includes(user.id))!);
    // The same event under a new id and stream: one new event; the exported ones are skipped (idempotent by id).
    const copy = {
      ...registered,
      eventId: randomUUID(),
      streamId: `user-${randomUUID()}`,
      data: { ...registered.data, email: `c.${randomUUID()}@x.io` },
    };
    const imported = await request(t.server)
      .post('/admin/events/import')
      .set(auth)
      .set('content-type', 'application/x-ndjson')
      .send(`${lines.join('\n')}\n${JSON.stringify(copy)}\n`)
      .expect(200);
    expect(imported.body).toMatchObject({ imported: 1, skipped: lines.length, duplicateEmailCount: 0 });
    const bad = await request(t.server)
      .post('/admin/events/import')
      .set(auth)
      .set('content-type', 'application/x-ndjson')
      .send('{"eventId":"x"}\n');
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: 'EVENT_STORE.IMPORT_INVALID', detail: expect.stringMatching(/line 1/) });
    await request(t.server).post('/admin/events/import').set(auth).send({ a: 1 }).expect(415);
  });

  it('serves the OpenAPI document and UI, and counts requests by route template', async () => {
    const docs = await request(t.server).get('/docs-json').expect(200);
    expect(Object.keys(docs.body.paths)).toEqual(expect.arrayContaining(['/users', '/users/{id}', '/admin/events/import']));
    const ui = await request(t.server).get('/docs/').expect(200);
    expect(ui.headers).toMatchObject(securityHeaders);
    expect(ui.text).toContain('swagger-ui');
    await request(t.server).get(`/users/${randomUUID()}`).expect(404);
    const metrics = await request(t.server).get('/metrics').expect(200);
    expect(metrics.headers['content-type']).toMatch(/^text\/plain/);
    expect(metrics.text).toMatch(/http_requests_total\{method="GET",route="\/users\/:id",status="404"\} [1-9]/);
    expect(metrics.text).toMatch(/http_requests_total\{method="GET",route="unmatched",status="404"\} [1-9]/);
  });
});

describe.each([DEFAULT_ADAPTER, OTHER_ADAPTER])('TRUST_PROXY and the write rate limit on %s (e2e)', (adapter) => {
  let t: TestApp;
  beforeAll(async () => {
    const namespace = `tp${randomUUID().slice(0, 8)}`;
    const env = {
      REDIS_URL: TEST_REDIS_URL,
      CACHE_NAMESPACE: namespace,
      WRITE_RATE_LIMIT: '2',
      TRUST_PROXY: '1',
      RUN_PROJECTIONS: 'false',
    };
    t = await startTestApp({ HTTP_ADAPTER: adapter, ...env });
  });
  afterAll(() => t?.close());

  it('limits each client by the address the trusted proxy forwards', async () => {
    const write = (client: string) =>
      request(t.server)
        .post('/users')
        .set('X-Forwarded-For', client)
        .send({ firstName: 'A', lastName: 'B', email: `p.${randomUUID()}@example.com` });
    const statuses = [];
    for (const client of ['203.0.113.1', '203.0.113.1', '203.0.113.1', '203.0.113.2']) statuses.push((await write(client)).status);
    expect(statuses).toEqual([201, 201, 429, 201]);
    const limited = await write('203.0.113.1').expect(429);
    expect(limited.body).toMatchObject({ status: 429, code: 'RATE_LIMIT.EXCEEDED' });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  });
});
