import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { eventually } from '../../../test/eventually';
import { TcpProxy } from '../../../test/tcp-proxy';
import { dropSchema } from '@app/event-store/testing';
import { deliveryReport } from './relay-fixtures';
import { startTestApp, TEST_ADMIN_TOKEN, type TestApp } from './test-app';
import { StreamReader, TEST_NATS_URL, uniqueNatsNames } from './test-nats';

const admin = `Bearer ${TEST_ADMIN_TOKEN}`;

/**
 * Integration events end to end: with NATS_URL set, every event the API writes appears once in
 * the JetStream stream, on its contract's subject, with its headers and without personal data,
 * also across a NATS outage during which writes keep answering; the relay's admin endpoints,
 * readiness and metrics; and with NATS_URL unset the relay is off.
 */
describe('integration events to NATS JetStream (e2e)', () => {
  const names = uniqueNatsNames('e2e_events');
  const proxy = new TcpProxy('127.0.0.1', Number(new URL(TEST_NATS_URL).port || 4222));
  let t: TestApp;
  let reader: StreamReader;
  const register = (correlationId: string) =>
    request(t.server)
      .post('/users')
      .set('X-Correlation-Id', correlationId)
      .send({ firstName: 'Ada', lastName: 'Lovelace', email: `ada.${randomUUID()}@example.com` })
      .expect(201);
  const inStream = (n: number, what: string) => eventually(async () => (await reader.count()) === n, 30_000, what);

  beforeAll(async () => {
    await proxy.start();
    reader = await StreamReader.open(names.stream);
    t = await startTestApp({ NATS_URL: `nats://127.0.0.1:${proxy.port}`, NATS_STREAM: names.stream, NATS_NAMESPACE: names.namespace });
  });
  afterAll(async () => {
    proxy.thaw();
    await t?.close();
    await proxy.cut();
    await reader?.deleteAndClose();
  });

  it('publishes each written event once, on its subject, with its headers and ids only', async () => {
    const user = (await register('corr-e2e-1')).body as { id: string };
    await request(t.server)
      .put(`/users/${user.id}/name`)
      .set('X-Correlation-Id', 'corr-e2e-2')
      .send({ firstName: 'Augusta', lastName: 'King' });
    await request(t.server).post(`/users/${user.id}/points`).send({ points: 10, reason: 'a private note' }).expect(201);
    await inStream(3, 'the three events in the stream');

    const [registered, renamed, awarded] = await reader.all();
    const prefix = `${names.namespace}.events.user`;
    expect([registered.subject, renamed.subject, awarded.subject]).toEqual([
      `${prefix}.UserRegistered`,
      `${prefix}.UserRenamed`,
      `${prefix}.PointsAwarded`,
    ]);
    expect(registered.payload).toEqual({ userId: user.id });
    expect(renamed.payload).toEqual({ userId: user.id });
    expect(awarded.payload).toEqual({ userId: user.id, points: 10, awardedAt: expect.any(String) });
    expect(JSON.stringify([registered, renamed, awarded])).not.toMatch(/Ada|Lovelace|Augusta|example\.com|private note/);
    expect(registered.headers).toEqual({
      'Nats-Msg-Id': registered.headers['Event-Id'],
      'Nats-Expected-Stream': names.stream,
      'Event-Id': expect.stringMatching(/^[0-9a-f-]{36}$/),
      'Event-Type': 'UserRegistered',
      'Event-Contract-Version': '1',
      'Event-Stream-Id': `user-${user.id}`,
      'Event-Stream-Version': '1',
      'Event-Position': expect.stringMatching(/^\d+$/),
      'Event-Recorded-At': expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      'Correlation-Id': 'corr-e2e-1',
      'Causation-Id': expect.stringMatching(/^http:/),
    });
    expect(renamed.headers).toMatchObject({ 'Correlation-Id': 'corr-e2e-2', 'Nats-Expected-Last-Msg-Id': registered.headers['Event-Id'] });
  });

  it('keeps answering writes while NATS is away, says degraded, and publishes everything once NATS is back', async () => {
    const before = await reader.count();
    await proxy.cut();
    const written = await Promise.all(Array.from({ length: 10 }, (_, i) => register(`corr-outage-${i}`)));
    expect(written).toHaveLength(10);
    await eventually(
      async () => {
        const ready = await request(t.server).get('/health/ready').expect(200);
        return ready.body.status === 'degraded' && ready.body.checks.relay.nats === 'down' && ready.body;
      },
      20_000,
      'readiness to say the relay is degraded',
    );
    await proxy.restore();
    await inStream(before + 10, 'the events written during the outage');
    const report = deliveryReport(await reader.all());
    expect(report).toEqual({ ids: before + 10, duplicates: 0, outOfOrder: 0, behindPosition: 0 });
    await eventually(async () => (await request(t.server).get('/health/ready')).body.status === 'ok', 20_000, 'readiness ok again');
  }, 60_000);

  it('a second instance takes over when the publishing one goes away, and nothing is published twice', async () => {
    const b = await startTestApp({
      EVENT_STORE_SCHEMA: t.schema,
      NATS_URL: TEST_NATS_URL,
      NATS_STREAM: names.stream,
      NATS_NAMESPACE: names.namespace,
    });
    try {
      const status = (app: TestApp) => request(app.server).get('/admin/relay').set('Authorization', admin).expect(200);
      expect((await status(t)).body.relay.activeHere).toBe(true);
      expect((await status(b)).body.relay.activeHere).toBe(false);
      const before = await reader.count();
      const writes = Array.from({ length: 10 }, (_, i) =>
        request(b.server)
          .post('/users')
          .send({ firstName: 'Ada', lastName: 'L', email: `ada.${i}.${randomUUID()}@example.com` }),
      );
      await t.app.close(); // the schema stays: the second instance uses it
      expect((await Promise.all(writes)).map((r) => r.status)).toEqual(Array(10).fill(201));
      await inStream(before + 10, 'the writes, published by the second instance');
      expect((await status(b)).body.relay.activeHere).toBe(true);
      expect(deliveryReport(await reader.all())).toEqual({ ids: before + 10, duplicates: 0, outOfOrder: 0, behindPosition: 0 });
    } finally {
      const schema = t.schema;
      // The remaining tests and afterAll use the instance that is left; closing it drops the schema.
      t = { ...b, close: async () => (await b.close(), await dropSchema(schema)) };
    }
  }, 60_000);

  it('shows its state, pauses, resumes and replays without duplicates (admin token)', async () => {
    await request(t.server).get('/admin/relay').expect(401);
    const count = await reader.count();
    await request(t.server).post('/admin/relay/pause').set('Authorization', admin).expect(200, { state: 'paused' });
    await request(t.server).post('/admin/relay/pause').set('Authorization', admin).expect(409);
    await register('corr-paused');
    await eventually(
      async () => (await request(t.server).get('/admin/relay').set('Authorization', admin)).body.relay.lagPositions > 0,
      30_000,
      'the lag to show the paused event',
    );
    const paused = await request(t.server).get('/admin/relay').set('Authorization', admin).expect(200);
    expect(paused.body.relay).toMatchObject({ name: 'nats', state: 'paused', natsConnected: true });
    expect(await reader.count()).toBe(count);

    await request(t.server).post('/admin/relay/resume').set('Authorization', admin).expect(200, { state: 'running' });
    await inStream(count + 1, 'the paused event after resume');
    await request(t.server).post('/admin/relay/replay').set('Authorization', admin).send({ position: 0 }).expect(400);
    const replay = await request(t.server).post('/admin/relay/replay').set('Authorization', admin).send({ position: 1 }).expect(200);
    expect(replay.body).toMatchObject({ from: 1 });
    await eventually(
      async () => {
        const s = (await request(t.server).get('/admin/relay').set('Authorization', admin)).body.relay;
        return s.checkpoint === s.head && s.checkpoint > 0;
      },
      30_000,
      'the replay to reach the head again',
    );
    expect(await reader.count()).toBe(count + 1);

    const metrics = await request(t.server).get('/metrics').expect(200);
    expect(metrics.text).toMatch(/integration_events_published_total\{type="UserRegistered"\} \d+/);
    expect(metrics.text).toMatch(/relay_lag_events \d+/);
    expect(metrics.text).toMatch(/relay_lag_seconds \d/);
    expect(metrics.text).toMatch(/relay_publish_errors_total \d+/);
  }, 60_000);

  it('is off without NATS_URL: the admin endpoint says so and commands answer 409', async () => {
    const off = await startTestApp();
    try {
      await request(off.server).get('/admin/relay').set('Authorization', admin).expect(200, { relay: null, reason: 'NATS_URL is not set' });
      const paused = await request(off.server).post('/admin/relay/pause').set('Authorization', admin).expect(409);
      expect(paused.body).toMatchObject({ code: 'RELAY.OFF' });
      const ready = await request(off.server).get('/health/ready').expect(200);
      expect(ready.body.checks.relay).toBeUndefined();
    } finally {
      await off.close();
    }
  });
});
