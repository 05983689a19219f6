import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { startTestApp, type TestApp } from './test-app';

/**
 * Reads on a schema whose read models no instance has built yet (every instance runs with
 * RUN_PROJECTIONS=false): an empty read model at position 0, not a 500.
 */
describe('reads before any projection has run (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ RUN_PROJECTIONS: 'false' });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('answers 404 for a user and an empty leaderboard, with read position 0', async () => {
    const user = await request(t.server).get(`/users/${randomUUID()}`).expect(404);
    expect(user.body.code).toBe('USERS.NOT_FOUND');
    expect(user.headers['x-read-position']).toBe('0');
    const board = await request(t.server).get('/leaderboard/trending').expect(200);
    expect(board.body.entries).toEqual([]);
    expect(board.headers['x-read-position']).toBe('0');
    const waiting = await request(t.server).get('/leaderboard/trending').set('X-Min-Position', '1').expect(503);
    expect(waiting.body.code).toBe('READ_MODEL.NOT_CAUGHT_UP');
  });
});
