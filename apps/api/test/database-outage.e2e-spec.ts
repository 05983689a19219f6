import request from 'supertest';
import { randomBytes } from 'node:crypto';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '@app/event-store/testing';
import { eventually } from '../../../test/eventually';
import { TcpProxy } from '../../../test/tcp-proxy';
import { startTestApp, TestApp } from './test-app';

/**
 * The database goes away under a running app (a proxy in front of the real
 * PostgreSQL is cut): cached reads keep answering from the cache, uncached
 * reads and writes get 503 problem+json (never 500, never a hang), liveness
 * stays up, and everything recovers when the database is back.
 */
describe('database outage (e2e)', () => {
  const target = new URL(TEST_DATABASE_URL);
  const proxy = new TcpProxy(target.hostname, Number(target.port || 5432));
  const schema = uniqueSchema('dbdown');
  let t: TestApp;

  beforeAll(async () => {
    const port = await proxy.start();
    const url = new URL(TEST_DATABASE_URL);
    url.port = String(port);
    t = await startTestApp({
      DATABASE_URL: url.toString(),
      EVENT_STORE_SCHEMA: schema,
      CACHE_NAMESPACE: `dbdown${randomBytes(4).toString('hex')}`,
    });
  });
  afterAll(async () => {
    await proxy.restore();
    await t?.close();
    await dropSchema(schema);
    await proxy.cut();
  });

  it('serves cached reads, answers 503 otherwise, and recovers', async () => {
    const created = await request(t.server).post('/users').send({ firstName: 'Ada', lastName: 'L', email: 'a@b.co' }).expect(201);
    const id = created.body.id;
    await request(t.server).get(`/users/${id}`).set('X-Min-Position', String(created.body.position)).expect(200);
    await request(t.server).get('/leaderboard/trending').expect(200);

    await proxy.cut();
    const cachedUser = await request(t.server).get(`/users/${id}`).expect(200);
    expect(cachedUser.body.firstName).toBe('Ada');
    await request(t.server).get('/leaderboard/trending').expect(200);
    const write = await request(t.server).post('/users').send({ firstName: 'B', lastName: 'C', email: 'b@c.co' });
    expect(write.status).toBe(503);
    expect(write.body.code).toBe('DATABASE.UNAVAILABLE');
    expect(write.headers['retry-after']).toBe('2');
    const uncached = await request(t.server).get('/leaderboard/trending?window=7d&limit=3');
    expect(uncached.status).toBe(503);
    const ready = await request(t.server).get('/health/ready').expect(503);
    // No driver text (hosts, users, schemas) in a public probe: which component is down, and since when.
    expect(ready.body).toEqual({
      status: 'unavailable',
      checks: { database: 'down' },
      down: [{ component: 'database', since: expect.any(String) }],
    });
    const again = await request(t.server).get('/health/ready').expect(503);
    expect(again.body.down).toEqual(ready.body.down);
    await request(t.server).get('/health/live').expect(200);

    await proxy.restore();
    const recovered: number = await eventually(
      async () => {
        const r = await request(t.server).post('/users').send({ firstName: 'B', lastName: 'C', email: 'b@c.co' });
        if (r.status !== 201) throw new Error(`POST /users answered ${r.status}`);
        return r.body.position;
      },
      10_000,
      'a write to succeed once the database is back',
      { everyMs: 200 },
    );
    expect(recovered).toBeGreaterThan(created.body.position);
    await request(t.server).get('/health/ready').expect(200);
    // The projection runner reconnected too: a read of the new write's position succeeds. The runner retries on its own
    // backoff (doubling up to 10 s), and catching up took 1.4-2.4 s here, against the read's own 2 s wait
    // (READ_YOUR_WRITES_TIMEOUT_MS): until then the read answers the documented 503 with Retry-After, and a client retries.
    await eventually(
      async () => {
        const r = await request(t.server).get('/leaderboard/trending?window=7d&limit=3').set('X-Min-Position', String(recovered));
        if (r.status !== 200) throw new Error(`GET /leaderboard/trending answered ${r.status}`);
        return true;
      },
      12_000,
      "the projections to reach the recovered write's position",
      { everyMs: 200 },
    );
  });
});
