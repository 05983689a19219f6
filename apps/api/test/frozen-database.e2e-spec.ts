import request from 'supertest';
import { randomBytes, randomUUID } from 'node:crypto';
import { EVENT_STORE_HANDLE, type EventStoreHandle } from '@app/event-store';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '@app/event-store/testing';
import { eventually } from '../../../test/eventually';
import { TcpProxy } from '../../../test/tcp-proxy';
import { startTestApp, TestApp } from './test-app';

/** DATABASE_STATEMENT_TIMEOUT_MS of the app; the client-side bound on a statement is 1000 ms above it. */
const STATEMENT_TIMEOUT_MS = 1_000;
/** Getting a new pooled connection gives up after this (the store's connect timeout). */
const CONNECT_TIMEOUT_MS = 5_000;
/** Slack for a busy 2-core machine on top of each bound. */
const SLACK_MS = 3_000;
/** Where a request counts as hung (the old code's write was still pending after 8 s): fail, do not wait for Jest. */
const HUNG_MS = 15_000;

/**
 * The link to PostgreSQL freezes under a running app (no bytes either way,
 * nothing closed: TCP alone notices nothing). A write and readiness answer 503
 * within the client-side bound instead of hanging (before, a write was still
 * pending after 8 s with a 1 s statement timeout), and the app works again
 * once the link does.
 */
describe('frozen database link (e2e)', () => {
  const target = new URL(TEST_DATABASE_URL);
  const proxy = new TcpProxy(target.hostname, Number(target.port || 5432));
  const schema = uniqueSchema('dbfrozen');
  let t: TestApp;

  beforeAll(async () => {
    const port = await proxy.start();
    const url = new URL(TEST_DATABASE_URL);
    url.port = String(port);
    t = await startTestApp({
      DATABASE_URL: url.toString(),
      EVENT_STORE_SCHEMA: schema,
      DATABASE_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS),
      RUN_PROJECTIONS: 'false',
      CACHE_NAMESPACE: `dbfrozen${randomBytes(4).toString('hex')}`,
    });
  });
  afterAll(async () => {
    proxy.thaw();
    await t?.close();
    await dropSchema(schema);
    await proxy.cut();
  });

  it('answers a write and readiness with 503 within the bound, and recovers when the link thaws', async () => {
    const user = () => ({ firstName: 'Ada', lastName: 'L', email: `${randomUUID()}@b.co` });
    await request(t.server).post('/users').send(user()).expect(201);

    // The write must meet a pooled connection on the frozen link (a new one would be the connect timeout's case).
    const es = t.app.get<EventStoreHandle>(EVENT_STORE_HANDLE);
    const idle = () => es.poolStats();
    await eventually(() => idle().idle > 0 && idle().idle === idle().total && idle().waiting === 0, 5_000, 'an idle pool');

    proxy.freeze();
    const timed = async (req: request.Test) => {
      const started = Date.now();
      const res = await req.timeout(HUNG_MS);
      return { res, ms: Date.now() - started };
    };
    const { res: write, ms: writeMs } = await timed(request(t.server).post('/users').send(user()));
    // Readiness after it: on a pooled connection (the statement bound) or a new one (the connect timeout).
    const { res: ready, ms: readyMs } = await timed(request(t.server).get('/health/ready'));
    process.stdout.write(`frozen link: write ${write.status} after ${writeMs} ms, readiness ${ready.status} after ${readyMs} ms\n`);
    expect(writeMs).toBeLessThan(2 * STATEMENT_TIMEOUT_MS + SLACK_MS);
    expect(readyMs).toBeLessThan(CONNECT_TIMEOUT_MS + SLACK_MS);
    expect(write.status).toBe(503);
    expect(write.body).toMatchObject({ code: 'EVENT_STORE.TIMEOUT' });
    expect(write.headers['retry-after']).toBe('1');
    expect(ready.status).toBe(503);
    expect(ready.body.down).toEqual([expect.objectContaining({ component: 'database' })]);

    proxy.thaw();
    await eventually(
      async () => (await request(t.server).post('/users').send(user())).status === 201,
      10_000,
      'a write to succeed once the link thaws',
      { everyMs: 200 },
    );
  }, 60_000);
});
