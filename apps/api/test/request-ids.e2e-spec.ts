import request from 'supertest';
import { randomUUID } from 'node:crypto';
import { eventually } from '../../../test/eventually';
import { startTestApp, TEST_ADMIN_TOKEN, TestApp } from './test-app';

/** Every JSON line the app logged, in order (pino writes one line per call). */
const lines: Array<Record<string, any>> = [];
const raw: string[] = [];
const destination = {
  write(chunk: string) {
    raw.push(chunk);
    for (const line of chunk.split('\n')) if (line.trim()) lines.push(JSON.parse(line));
  },
};

describe('request ids, correlation ids and JSON logs (e2e)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ LOG_LEVEL: 'debug' }, { log: { destination } });
  });
  afterAll(() => t?.close());

  const auth = { Authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
  const storedMetadata = async (userId: string) =>
    (await request(t.server).get(`/admin/streams/user-${userId}/events`).set(auth).expect(200)).body.events[0].metadata;
  const requestLine = (requestId: string) => lines.find((l) => l.requestId === requestId && l.status !== undefined);

  it('keeps a well-formed X-Request-Id: echoed, stored as the causation id, on the request line and the projection line', async () => {
    const requestId = `req-${randomUUID()}.a:b_c`;
    const correlationId = `corr-${randomUUID()}`;
    const email = `Ada.${randomUUID()}@Example.com`;
    const res = await request(t.server)
      .post('/users')
      .set('X-Request-Id', requestId)
      .set('X-Correlation-Id', correlationId)
      .send({ firstName: 'Ada', lastName: 'Lovelace', email })
      .expect(201);

    expect(res.headers['x-request-id']).toBe(requestId);
    expect(res.headers['x-correlation-id']).toBe(correlationId);
    expect(await storedMetadata(res.body.id)).toMatchObject({ causationId: `http:${requestId}`, correlationId });

    const line = await eventually(() => requestLine(requestId), 5000, 'the request line');
    expect(line).toMatchObject({ level: 30, correlationId, method: 'POST', route: '/users', path: '/users', status: 201 });
    expect(line.durationMs).toEqual(expect.any(Number));
    expect(lines.filter((l) => l.requestId === requestId && l.status !== undefined)).toHaveLength(1);

    // The projection batches that apply the request's event log its correlation id.
    for (const projection of ['user_profiles', 'points_ledger']) {
      await eventually(
        () => lines.find((l) => l.context === `Projection:${projection}` && l.correlationIds?.includes(correlationId)),
        30_000, // a loaded machine (2 cores, many test runs) has been seen to take 6 s
        `a ${projection} batch line with the correlation id`,
      );
    }
    // Personal data of the body never reaches the log.
    expect(raw.join('')).not.toContain(email.split('@')[0]);
    expect(raw.join('').toLowerCase()).not.toContain(email.toLowerCase());
  }, 90_000);

  it.each([
    ['malformed', 'has spaces and !'],
    ['too long', 'x'.repeat(101)],
    ['missing', undefined],
  ])('generates the request id when X-Request-Id is %s; the correlation id is then the request id', async (_, sent) => {
    const req = request(t.server).post('/users');
    if (sent !== undefined) req.set('X-Request-Id', sent);
    const res = await req.send({ firstName: 'Ada', lastName: 'Lovelace', email: `Ada.${randomUUID()}@Example.com` }).expect(201);

    const requestId = res.headers['x-request-id'];
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers['x-correlation-id']).toBe(requestId);
    expect(await storedMetadata(res.body.id)).toMatchObject({ causationId: `http:${requestId}`, correlationId: requestId });
    await eventually(() => requestLine(requestId), 5000, 'the request line');
  });

  it('answers errors and unknown routes with the ids too, and logs one line for each', async () => {
    const requestId = `missing-${randomUUID()}`;
    const res = await request(t.server).get(`/users/${randomUUID()}`).set('X-Request-Id', requestId).expect(404);
    expect(res.headers['x-request-id']).toBe(requestId);
    const line = await eventually(() => requestLine(requestId), 5000, 'the 404 line');
    expect(line).toMatchObject({ level: 40, route: '/users/:id', status: 404 });

    const nowhere = `nowhere-${randomUUID()}`;
    await request(t.server).get('/no/such/route?email=ada@example.com').set('X-Request-Id', nowhere).expect(404);
    const unmatched = await eventually(() => requestLine(nowhere), 5000, 'the unmatched line');
    expect(unmatched).toMatchObject({ path: '/no/such/route', status: 404 });
    expect(unmatched.route).toBeUndefined();
    expect(JSON.stringify(unmatched)).not.toContain('ada@example.com');
  });

  it('never logs the Authorization header or the admin token', async () => {
    const requestId = `admin-${randomUUID()}`;
    await request(t.server).get('/admin/projections').set(auth).set('X-Request-Id', requestId).expect(200);
    await eventually(() => requestLine(requestId), 5000, 'the admin request line');
    expect(raw.join('')).not.toContain(TEST_ADMIN_TOKEN);
  });
});
