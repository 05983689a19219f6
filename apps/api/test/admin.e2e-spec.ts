import request from 'supertest';
import { randomUUID } from 'node:crypto';
import { eventually } from '../../../test/eventually';
import { startTestApp, TestApp, TEST_ADMIN_TOKEN } from './test-app';

const auth = { Authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
const line = (e: object) => JSON.stringify(e) + '\n';

/** A v1-era user: registered with a full name (and an email of its own), awarded points in the v1 and v2 shapes. */
function legacyHistory(userId: string, fullName: string, email = `legacy.${userId}@example.com`) {
  const streamId = `user-${userId}`;
  const base = { streamId, metadata: { occurredAt: '2019-06-01T00:00:00.000Z' }, recordedAt: '2019-06-01T00:00:01.000Z' };
  return [
    { ...base, eventId: randomUUID(), streamVersion: 1, type: 'UserRegistered', schemaVersion: 1, data: { fullName, email } },
    { ...base, eventId: randomUUID(), streamVersion: 2, type: 'PointsAwarded', schemaVersion: 1, data: { amount: 30 } },
    { ...base, eventId: randomUUID(), streamVersion: 3, type: 'PointsAwarded', schemaVersion: 2, data: { points: 12, reason: 'review' } },
  ];
}

describe('admin API and the legacy story (e2e)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t?.close());
  /** Verify reads the log up to the head readable when it starts: wait until no older transaction in the cluster holds it below `position`. */
  const settled = (position: number) =>
    eventually(
      async () => (await request(t.server).get('/admin/projections').set(auth).expect(200)).body.projections[0].head >= position,
      10_000,
      `the log to settle through position ${position}`,
    );

  it('needs the bearer token: 401 without, 403 wrong', async () => {
    const none = await request(t.server).post('/admin/events/verify').expect(401);
    expect(none.headers['www-authenticate']).toBe('Bearer');
    expect(none.body.code).toBe('ADMIN.UNAUTHENTICATED');
    const wrong = await request(t.server).post('/admin/events/verify').set('Authorization', 'Bearer nope').expect(403);
    expect(wrong.body.code).toBe('ADMIN.FORBIDDEN');
  });

  it('imports v1 history, reads it upcast, verifies clean, and re-import skips', async () => {
    const userId = randomUUID();
    const history = legacyHistory(userId, 'Jean-Claude Van Damme', 'legacy@example.com');
    const body = history.map(line).join('');
    const imported = await request(t.server)
      .post('/admin/events/import')
      .set(auth)
      .set('content-type', 'application/x-ndjson')
      .send(body)
      .expect(200);
    expect(imported.body).toEqual({
      imported: 3,
      skipped: 0,
      position: expect.any(Number),
      leftOut: 0,
      movedOn: [],
      duplicateEmails: [],
      duplicateEmailCount: 0,
    });

    const user = await request(t.server).get(`/users/${userId}`).set('X-Min-Position', String(imported.body.position)).expect(200);
    expect(user.body).toEqual({
      id: userId,
      firstName: 'Jean-Claude',
      lastName: 'Van Damme',
      email: 'legacy@example.com',
      points: 42,
      version: 3,
    });

    const stored = await request(t.server).get(`/admin/streams/user-${userId}/events`).set(auth).expect(200);
    expect(stored.body.events.map((e: { type: string; schemaVersion: number }) => `${e.type}@v${e.schemaVersion}`)).toEqual([
      'UserRegistered@v1',
      'PointsAwarded@v1',
      'PointsAwarded@v2',
    ]);
    // Stored as imported (v1), with its plaintext personal fields encrypted on the way in.
    const sealed = { $pii: 'aes-256-gcm', iv: expect.any(String), ct: expect.any(String), tag: expect.any(String) };
    expect(stored.body.events[0].data).toEqual({ fullName: sealed, email: sealed });

    await settled(imported.body.position);
    const verify = await request(t.server).post('/admin/events/verify').set(auth).expect(200);
    expect(verify.body).toMatchObject({ checked: 3, failures: [], duplicateEmails: [], duplicateEmailCount: 0 });

    const again = await request(t.server)
      .post('/admin/events/import')
      .set(auth)
      .set('content-type', 'application/x-ndjson')
      .send(body)
      .expect(200);
    expect(again.body).toEqual({
      imported: 0,
      skipped: 3,
      position: 0,
      leftOut: 0,
      movedOn: [],
      duplicateEmails: [],
      duplicateEmailCount: 0,
    });

    // A rename on top of imported history continues the stream.
    await request(t.server).put(`/users/${userId}/name`).set('If-Match', '3').send({ firstName: 'JC', lastName: 'VD' }).expect(200);
  });

  it('names an event of an unknown schema version in verify, stops the projections on it, and keeps answering', async () => {
    const userId = randomUUID();
    const [registered] = legacyHistory(userId, 'Future Person');
    const future = { ...registered, eventId: randomUUID(), schemaVersion: 9, data: { who: 'knows' } };
    const imported = await request(t.server)
      .post('/admin/events/import')
      .set(auth)
      .set('content-type', 'application/x-ndjson')
      .send(line(future))
      .expect(200);
    const position = imported.body.position;

    await settled(position);
    const verify = await request(t.server).post('/admin/events/verify').set(auth).expect(200);
    expect(verify.body.failures).toEqual([
      expect.objectContaining({
        streamId: `user-${userId}`,
        streamVersion: 1,
        type: 'UserRegistered',
        schemaVersion: 9,
        code: 'EVENT_STORE.MISSING_UPCASTER',
        position,
      }),
    ]);

    // The read model cannot pass the poison event: a read that needs it answers 503, never 500.
    const stuck = await request(t.server).get(`/users/${userId}`).set('X-Min-Position', String(position)).expect(503);
    expect(stuck.headers['retry-after']).toBe('1');
    expect(stuck.body.code).toBe('READ_MODEL.NOT_CAUGHT_UP');
    const ready = await request(t.server).get('/health/ready').set(auth).expect(200);
    expect(ready.body.status).toBe('degraded');
    expect(ready.body.checks.projections).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'user_profiles', state: 'stopped-on-error', error: expect.objectContaining({ position }) }),
      ]),
    );
    await request(t.server).get('/health/live').expect(200);
    await request(t.server)
      .post('/users')
      .send({ firstName: 'Still', lastName: 'Up', email: `s.${randomUUID()}@u.co` })
      .expect(201);

    // An operator skips exactly that event; a wrong position is refused.
    await request(t.server)
      .post('/admin/projections/user_profiles/skip')
      .set(auth)
      .send({ position: position + 1 })
      .expect(409);
    for (const name of ['user_profiles', 'points_ledger']) {
      await request(t.server).post(`/admin/projections/${name}/skip`).set(auth).send({ position }).expect(200);
    }
    const after = await request(t.server).get(`/users/${userId}`).set('X-Min-Position', String(position)).expect(404);
    expect(after.body.code).toBe('USERS.NOT_FOUND');
    const status = await request(t.server).get('/admin/projections').set(auth).expect(200);
    for (const p of status.body.projections) {
      expect(p).toMatchObject({ state: 'running', lastError: null });
      expect(p.skipped).toEqual([expect.objectContaining({ position })]);
    }
  });

  it('rebuilds the read models from imported legacy history: profiles and leaderboard show upcast data', async () => {
    const ids = [randomUUID(), randomUUID()];
    const lines = [...legacyHistory(ids[0], '  Cher '), ...legacyHistory(ids[1], 'John   Doe')].map(line).join('');
    const imported = await request(t.server)
      .post('/admin/events/import')
      .set(auth)
      .set('content-type', 'application/x-ndjson')
      .send(lines)
      .expect(200);
    for (const name of ['user_profiles', 'points_ledger']) {
      await request(t.server).post(`/admin/projections/${name}/rebuild`).set(auth).expect(202);
    }
    // Progress is visible while it runs; wait for both switches.
    await eventually(
      async () => {
        const { body } = await request(t.server).get('/admin/projections').set(auth).expect(200);
        if (body.projections.some((p: { rebuild: unknown }) => p.rebuild !== null))
          throw new Error(`still rebuilding: ${JSON.stringify(body)}`);
        return true;
      },
      10_000,
      'both rebuilds to switch live',
      { everyMs: 100 },
    );
    const cher = await request(t.server).get(`/users/${ids[0]}`).set('X-Min-Position', String(imported.body.position)).expect(200);
    expect(cher.body).toMatchObject({ firstName: 'Cher', lastName: '', points: 42 });
    const john = await request(t.server).get(`/users/${ids[1]}`).set('X-Min-Position', String(imported.body.position)).expect(200);
    expect(john.body).toMatchObject({ firstName: 'John', lastName: 'Doe', points: 42 });
    // The legacy awards happened in 2019: outside every trending window, so they must not count.
    const trending = await request(t.server)
      .get('/leaderboard/trending?window=30d&limit=100')
      .set('X-Min-Position', String(imported.body.position))
      .expect(200);
    expect(trending.body.entries.map((e: { userId: string }) => e.userId)).not.toContain(ids[0]);
    // A fresh award counts, under the upcast name.
    const award = await request(t.server).post(`/users/${ids[0]}/points`).send({ points: 5, reason: 'comeback' }).expect(201);
    const after = await request(t.server)
      .get('/leaderboard/trending?window=24h&limit=100')
      .set('X-Min-Position', String(award.body.position))
      .expect(200);
    expect(after.body.entries).toContainEqual({ userId: ids[0], firstName: 'Cher', lastName: '', points: 5 });
  });

  it('rejects a bad import with 400 naming the line, and the wrong media type with 415', async () => {
    const bad = await request(t.server)
      .post('/admin/events/import')
      .set(auth)
      .set('content-type', 'application/x-ndjson')
      .send('{"eventId":"x"}\n')
      .expect(400);
    expect(bad.body).toMatchObject({ code: 'EVENT_STORE.IMPORT_INVALID' });
    expect(bad.body.detail).toMatch(/line 1/);
    await request(t.server).post('/admin/events/import').set(auth).send({ a: 1 }).expect(415);
  });

  it('exports JSON lines that round-trip through import into another store', async () => {
    const res = await request(t.server)
      .get('/admin/events/export')
      .set(auth)
      .buffer(true)
      .parse((r, cb) => {
        let text = '';
        r.on('data', (c: Buffer) => (text += c.toString()));
        r.on('end', () => cb(null, text));
      })
      .expect(200);
    expect(res.headers['content-type']).toMatch(/application\/x-ndjson/);
    const lines = (res.body as string)
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.length).toBeGreaterThanOrEqual(4);
    expect(Object.keys(lines[0]).sort()).toEqual([
      'data',
      'eventId',
      'metadata',
      'recordedAt',
      'schemaVersion',
      'streamId',
      'streamVersion',
      'type',
    ]);
    const other = await startTestApp();
    try {
      const imported = await request(other.server)
        .post('/admin/events/import')
        .set(auth)
        .set('content-type', 'application/x-ndjson')
        .send(res.body)
        .expect(200);
      expect(imported.body).toMatchObject({ imported: lines.length, skipped: 0 });
    } finally {
      await other.close();
    }
  });
});

describe('admin API without ADMIN_TOKEN (e2e)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ ADMIN_TOKEN: '' });
  });
  afterAll(() => t?.close());

  it('answers 403 to everyone', async () => {
    const res = await request(t.server).post('/admin/events/verify').set(auth).expect(403);
    expect(res.body.code).toBe('ADMIN.DISABLED');
  });
});
