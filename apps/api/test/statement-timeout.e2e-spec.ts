import request from 'supertest';
import { randomUUID } from 'node:crypto';
import { AppendProbe } from '@app/event-store/testing';
import { startTestApp, TestApp } from './test-app';

/**
 * A write that runs past DATABASE_STATEMENT_TIMEOUT_MS answers 503 problem+json
 * with Retry-After (never 500, never a hang), leaves the global append lock free,
 * and the next write goes through. The append is held inside its critical
 * section (position draws blocked from the side), so the timeout fires there.
 */
describe('statement timeout (e2e)', () => {
  let t: TestApp;
  let probe: AppendProbe;
  beforeAll(async () => {
    t = await startTestApp({ DATABASE_STATEMENT_TIMEOUT_MS: '500', RUN_PROJECTIONS: 'false' });
    probe = await AppendProbe.open(t.schema);
  });
  afterAll(async () => {
    await probe?.close();
    await t?.close();
  });

  it('answers 503 with Retry-After, and the next write succeeds', async () => {
    const register = () =>
      request(t.server)
        .post('/users')
        .send({ firstName: 'Ada', lastName: 'L', email: `${randomUUID()}@x.io` });
    const block = await probe.blockPositionDraws();
    let stuck;
    try {
      stuck = await register();
    } finally {
      await block.release();
    }
    expect(stuck.status).toBe(503);
    expect(stuck.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(stuck.body.code).toBe('EVENT_STORE.TIMEOUT');
    expect(stuck.headers['retry-after']).toBe('1');
    expect(await probe.appendLockHolders()).toEqual([]);
    await register().expect(201);
  });
});
