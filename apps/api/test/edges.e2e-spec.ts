import request from 'supertest';
import { randomBytes, randomUUID } from 'node:crypto';
import { startRedisServer, type RedisServerProcess } from '@app/stampede-cache/testing';
import { eventually } from '../../../test/eventually';
import { counter } from './prometheus';
import { startTestApp, TestApp, TEST_ADMIN_TOKEN } from './test-app';

const auth = { Authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
const user = () => ({ firstName: 'Ada', lastName: 'L', email: `e.${randomUUID()}@example.com` });

describe('safe edges: security headers, metrics, docs (e2e)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
    // Read models exist once a first write has been projected (reads before that are not this file's subject).
    const { body } = await request(t.server).post('/users').send(user()).expect(201);
    await request(t.server).get(`/users/${body.id}`).set('X-Min-Position', String(body.position)).expect(200);
  });
  afterAll(() => t?.close());

  it('sends security headers on API answers, errors and the docs', async () => {
    for (const res of [
      await request(t.server).get('/health/live').expect(200),
      await request(t.server).get(`/users/${randomUUID()}`).expect(404),
      await request(t.server).get('/docs/').expect(200),
    ]) {
      expect(res.headers).toMatchObject({
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'SAMEORIGIN',
        'strict-transport-security': expect.stringContaining('max-age='),
        'content-security-policy': expect.stringContaining("default-src 'self'"),
      });
      expect(res.headers['x-powered-by']).toBeUndefined();
    }
  });

  it('counts HTTP requests by route template and status, with a latency histogram', async () => {
    const metrics = async () => (await request(t.server).get('/metrics').expect(200)).text;
    const series = [
      ['http_requests_total', { method: 'POST', route: '/users', status: '201' }],
      ['http_requests_total', { method: 'GET', route: '/users/:id', status: '200' }],
      ['http_requests_total', { method: 'GET', route: '/users/:id', status: '404' }],
      ['http_requests_total', { method: 'GET', route: 'unmatched', status: '404' }],
      ['http_request_duration_seconds_count', { route: '/users/:id' }],
    ] as const;
    const before = await metrics();
    const { body } = await request(t.server).post('/users').send(user()).expect(201);
    await request(t.server).get(`/users/${body.id}`).set('X-Min-Position', String(body.position)).expect(200);
    await request(t.server).get(`/users/${randomUUID()}`).expect(404);
    await request(t.server).get('/no/such/route').expect(404);
    const after = await metrics();
    expect(series.map(([name, labels]) => counter(after, name, labels) - counter(before, name, labels))).toEqual([1, 1, 1, 1, 2]);
    expect(after).not.toContain(body.id);
    expect(after).toMatch(/http_request_duration_seconds_bucket\{le="0.005",method="POST",route="\/users",status="201"\}/);
  });

  it('reports projection lag (head minus checkpoint) per projection', async () => {
    const { body } = await request(t.server).post('/users').send(user()).expect(201);
    await request(t.server).get(`/users/${body.id}`).set('X-Min-Position', String(body.position)).expect(200);
    await request(t.server).get('/leaderboard/trending').set('X-Min-Position', String(body.position)).expect(200);
    const text = (await request(t.server).get('/metrics').expect(200)).text;
    for (const projection of ['user_profiles', 'points_ledger']) {
      expect(text).toContain(`projection_lag_events{projection="${projection}"} `);
      expect(counter(text, 'projection_lag_events', { projection })).toBe(0);
    }
  });
});

describe('METRICS_ACCESS / DOCS_ACCESS (e2e)', () => {
  let admin: TestApp;
  let off: TestApp;
  beforeAll(async () => {
    admin = await startTestApp({ METRICS_ACCESS: 'admin', DOCS_ACCESS: 'admin', RUN_PROJECTIONS: 'false' });
    off = await startTestApp({ METRICS_ACCESS: 'off', DOCS_ACCESS: 'off', RUN_PROJECTIONS: 'false' });
  });
  afterAll(async () => {
    await admin?.close();
    await off?.close();
  });

  it('puts /metrics and /docs behind the admin token, or removes them', async () => {
    for (const path of ['/metrics', '/docs-json', '/docs/']) {
      const denied = await request(admin.server).get(path).expect(401);
      expect(denied.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(denied.headers['www-authenticate']).toBe('Bearer');
      expect(denied.body.code).toBe('ADMIN.UNAUTHENTICATED');
      await request(admin.server).get(path).set('Authorization', 'Bearer wrong-token').expect(403);
      await request(admin.server).get(path).set(auth).expect(200);
      const gone = await request(off.server).get(path).set(auth).expect(404);
      expect(gone.body.code).toBe('HTTP.ROUTE_NOT_FOUND');
    }
  });
});

describe('Redis: readiness degraded, write rate limit across instances, failing open (e2e)', () => {
  const namespace = `rl${randomBytes(4).toString('hex')}`;
  let redis: { server: RedisServerProcess; stop: () => Promise<void> };
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    redis = await startRedisServer();
    const env = { REDIS_URL: redis.server.url, CACHE_NAMESPACE: namespace, WRITE_RATE_LIMIT: '3', WRITE_RATE_LIMIT_WINDOW_MS: '60000' };
    a = await startTestApp(env);
    b = await startTestApp({ ...env, EVENT_STORE_SCHEMA: a.schema });
  });
  afterAll(async () => {
    try {
      await b?.close();
      await a?.close();
    } finally {
      await redis?.stop();
    }
  });

  it('limits writes per client IP across both instances with 429 + Retry-After; reads are not limited', async () => {
    const ready = await request(a.server).get('/health/ready').expect(200);
    expect(ready.body).toMatchObject({ status: 'ok', checks: { redis: 'up' } });
    const statuses = [];
    for (const server of [a.server, b.server, a.server, b.server])
      statuses.push((await request(server).post('/users').send(user())).status);
    expect(statuses).toEqual([201, 201, 201, 429]);
    const limited = await request(a.server).post('/users').send(user()).expect(429);
    expect(limited.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(limited.body).toMatchObject({ status: 429, code: 'RATE_LIMIT.EXCEEDED', title: 'Too Many Requests' });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
    for (let i = 0; i < 5; i++) await request(b.server).get('/health/live').expect(200);
    await request(b.server).get('/leaderboard/trending').expect(200);
  });

  it('fails open and reports Redis as degraded (not down) while Redis is gone, and limits again once it is back', async () => {
    await redis.server.kill('SIGKILL');
    await eventually(
      async () => (await request(a.server).get('/health/ready')).body.checks?.redis === 'degraded',
      10_000,
      'redis degraded',
    );
    const ready = await request(a.server).get('/health/ready').expect(200);
    expect(ready.body).toMatchObject({ status: 'degraded', checks: { database: 'up', redis: 'degraded' } });
    // Over the limit, but the limit cannot be counted: writes go through.
    for (const server of [a.server, b.server]) await request(server).post('/users').send(user()).expect(201);

    await redis.server.start(); // same port, empty: a fresh window
    await eventually(async () => (await request(a.server).get('/health/ready')).body.checks?.redis === 'up', 15_000, 'redis up again');
    const counted = [];
    for (let i = 0; i < 4; i++) counted.push((await request(b.server).post('/users').send(user())).status);
    expect(counted).toEqual([201, 201, 201, 429]);
  });
});
