import request from 'supertest';
import { dropSchema, uniqueSchema } from '@app/event-store/testing';
import { eventually } from '../../../test/eventually';
import { startTestApp, TestApp, TEST_ADMIN_TOKEN } from './test-app';

const auth = { Authorization: `Bearer ${TEST_ADMIN_TOKEN}` };

/**
 * Rebuild abort and phase-naming commands over HTTP. The instance under test
 * runs no projections (RUN_PROJECTIONS=false), so a requested rebuild stays
 * pending and the test decides what happens to it.
 */
describe('admin projection commands: abort a rebuild, name the phase (e2e)', () => {
  const schema = uniqueSchema('e2e_proj_admin');
  let t: TestApp;

  beforeAll(async () => {
    const first = await startTestApp({ EVENT_STORE_SCHEMA: schema });
    await eventually(
      async () => {
        const { body } = await request(first.server).get('/admin/projections').set(auth).expect(200);
        return body.projections.every((p: { activeHere: boolean }) => p.activeHere);
      },
      10_000,
      'every projection to run on the first instance',
    );
    await first.close(); // its runners created the projections' rows
    t = await startTestApp({ EVENT_STORE_SCHEMA: schema, RUN_PROJECTIONS: 'false' });
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await dropSchema(schema);
  });

  it('DELETE /admin/projections/:name/rebuild: 401 without the token, 404 unknown, 409 with no rebuild (problem+json)', async () => {
    await request(t.server).delete('/admin/projections/user_profiles/rebuild').expect(401);
    const unknown = await request(t.server).delete('/admin/projections/nope/rebuild').set(auth).expect(404);
    expect(unknown.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(unknown.body).toMatchObject({ status: 404, code: 'PROJECTION.NOT_FOUND' });
    const none = await request(t.server).delete('/admin/projections/user_profiles/rebuild').set(auth).expect(409);
    expect(none.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(none.body).toMatchObject({
      status: 409,
      code: 'PROJECTION.STATE_CONFLICT',
      detail: expect.stringContaining('no rebuild to abort'),
    });
  });

  it('aborts a pending rebuild: 200 naming what ended, status shows it, a second abort is 409, a new rebuild can start', async () => {
    await request(t.server).post('/admin/projections/points_ledger/rebuild').set(auth).expect(202);
    const during = await request(t.server).get('/admin/projections').set(auth).expect(200);
    const pending = during.body.projections.find((p: { name: string }) => p.name === 'points_ledger');
    expect(pending).toMatchObject({ state: 'rebuilding', rebuild: { version: 1, position: 0, state: 'running', error: null } });

    const res = await request(t.server).delete('/admin/projections/points_ledger/rebuild').set(auth).expect(200);
    expect(res.body).toEqual({ name: 'points_ledger', aborted: { version: 1, position: 0, at: expect.any(String) } });
    const after = await request(t.server).get('/admin/projections').set(auth).expect(200);
    expect(after.body.projections.find((p: { name: string }) => p.name === 'points_ledger')).toMatchObject({
      state: 'running',
      rebuild: null,
      abortedRebuild: res.body.aborted,
    });
    await request(t.server).delete('/admin/projections/points_ledger/rebuild').set(auth).expect(409);
    await request(t.server).post('/admin/projections/points_ledger/rebuild').set(auth).expect(202);
    await request(t.server).delete('/admin/projections/points_ledger/rebuild').set(auth).expect(200);
  });

  it('retry and skip take an optional phase: an unknown phase is 400 naming the field; a phase not stopped is 409', async () => {
    const bad = await request(t.server).post('/admin/projections/user_profiles/retry').set(auth).send({ phase: 'sideways' }).expect(400);
    expect(bad.body.errors).toEqual([{ field: 'phase', messages: [expect.stringContaining('phase must be one of')] }]);
    const skip = await request(t.server)
      .post('/admin/projections/user_profiles/skip')
      .set(auth)
      .send({ position: 1, phase: 'x' })
      .expect(400);
    expect(skip.body.errors.map((e: { field: string }) => e.field)).toEqual(['phase']);
    const notStopped = await request(t.server)
      .post('/admin/projections/user_profiles/retry')
      .set(auth)
      .send({ phase: 'rebuild' })
      .expect(409);
    expect(notStopped.body.detail).toMatch(/no rebuild phase stopped/);
    await request(t.server).post('/admin/projections/user_profiles/retry').set(auth).expect(409);
  });
});
