import request from 'supertest';
import { randomUUID } from 'node:crypto';
import { EVENT_STORE_HANDLE, type EventStoreHandle } from '@app/event-store';
import { eventually } from '../../../test/eventually';
import { startTestApp, TestApp, TEST_ADMIN_TOKEN } from './test-app';

const auth = { Authorization: `Bearer ${TEST_ADMIN_TOKEN}` };

/**
 * Readiness is public: it says which component is down and since when, and
 * nothing an attacker could use. A projection stopped on an event whose
 * stream id is a user's id (and `GET /users/:id` answers that user's email)
 * must not show the id, the position or the error text without the admin token.
 */
describe('/health/ready tells no secrets (e2e)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t?.close());

  it('public: the stopped projection and since when; admin token: the error with its position and stream', async () => {
    const userId = randomUUID();
    const es = t.app.get<EventStoreHandle>(EVENT_STORE_HANDLE);
    // A version from the future: the projection cannot read it and stops there, its error naming the stream.
    const { position } = await es.store.appendToStream(`user-${userId}`, [
      { type: 'UserRegistered', schemaVersion: 99, data: { email: `secret.${userId}@example.com` } },
    ]);
    const stopped = await eventually(
      async () => {
        const r = await request(t.server).get('/health/ready').expect(200);
        const names = Array.isArray(r.body.checks.projections) ? r.body.checks.projections.map((p: { name: string }) => p.name) : [];
        return names.includes('user_profiles') ? r.body : undefined;
      },
      20_000,
      'user_profiles to stop on the unreadable event',
    );

    expect(stopped.status).toBe('degraded');
    // Every projection that handles the event stops on it (user_profiles and points_ledger): name, state, since, no more.
    for (const p of stopped.checks.projections) {
      expect(p).toEqual({ name: expect.any(String), state: 'stopped-on-error', since: expect.any(String) });
      expect(Date.parse(p.since)).not.toBeNaN();
      expect(stopped.down).toContainEqual({ component: `projection:${p.name}`, since: p.since });
    }
    const text = JSON.stringify(stopped);
    for (const secret of [userId, '"position"', '"streamId"', '"eventId"', '"error"', '"reason"', 'MISSING_UPCASTER']) {
      expect(text).not.toContain(secret);
    }
    // A wrong token is not an error for a probe: it gets the public answer.
    const wrong = await request(t.server).get('/health/ready').set('Authorization', 'Bearer nope').expect(200);
    expect(JSON.stringify(wrong.body)).not.toContain(userId);

    const admin = await request(t.server).get('/health/ready').set(auth).expect(200);
    expect(admin.body.checks.projections).toContainEqual(
      expect.objectContaining({
        name: 'user_profiles',
        state: 'stopped-on-error',
        error: expect.objectContaining({ position, streamId: `user-${userId}`, code: 'EVENT_STORE.MISSING_UPCASTER' }),
      }),
    );
    expect(admin.body.down).toContainEqual(expect.objectContaining({ component: 'projection:user_profiles', error: expect.any(String) }));
  });
});
