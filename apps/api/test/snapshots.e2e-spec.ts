import request from 'supertest';
import { randomUUID } from 'node:crypto';
import { AggregateRepository, EVENT_STORE_HANDLE, type EventStoreHandle } from '@app/event-store';
import { User } from '../src/users/user.aggregate';
import { userStreamId } from '../src/users/user-stream';
import { counter } from './prometheus';
import { startTestApp, TestApp } from './test-app';

/** The app's wiring of snapshots: with SNAPSHOT_EVERY=3, commands on a user load from its snapshots and keep every rule. */
describe('User snapshots in the app (e2e)', () => {
  let t: TestApp;
  let es: EventStoreHandle;
  beforeAll(async () => {
    t = await startTestApp({ SNAPSHOT_EVERY: '3' });
    es = t.app.get<EventStoreHandle>(EVENT_STORE_HANDLE);
  });
  afterAll(() => t?.close());

  /**
   * The user as the app's repository loads it (what the next command sees), not through the
   * read model: reads with X-Min-Position wait on the projections, which any long transaction
   * elsewhere on a shared PostgreSQL holds back (ADR 0002).
   */
  const loaded = async (id: string) => {
    const user = await t.app.get(AggregateRepository).load(() => new User(id), userStreamId(id));
    return user && { firstName: user.firstName, lastName: user.lastName, email: user.email, points: user.points, version: user.version };
  };

  it('takes snapshots of a user as commands load it, and commands after them see the whole history', async () => {
    const email = `snap.${randomUUID()}@example.com`;
    const { body: created } = await request(t.server).post('/users').send({ firstName: 'Ada', lastName: 'Lovelace', email }).expect(201);
    const id = created.id as string;
    for (let i = 1; i <= 7; i++) {
      const award = await request(t.server)
        .post(`/users/${id}/points`)
        .send({ points: i, reason: `award ${i}` })
        .expect(201);
      expect(award.body.version).toBe(i + 1);
    }
    await es.snapshots.flush();
    const rows = await es.db.query<any>(
      `SELECT aggregate_type, schema_version, stream_version FROM "${t.schema}".snapshots WHERE stream_id = $1`,
      [`user-${id}`],
    );
    // Loads that replayed 3 events past the last snapshot took one (which loads, depends on when each write landed).
    expect(rows).toEqual([{ aggregate_type: 'User', schema_version: 1, stream_version: expect.any(Number) }]);
    expect(rows[0].stream_version).toBeGreaterThanOrEqual(3);

    // If-Match checks the version a snapshot load reports; the read shows every award.
    const rename = (version: number) =>
      request(t.server).put(`/users/${id}/name`).set('If-Match', `"${version}"`).send({ firstName: 'Augusta', lastName: 'King' });
    await rename(7).expect(409);
    const renamed = await rename(8).expect(200);
    expect(renamed.body.version).toBe(9);
    expect(await loaded(id)).toMatchObject({ firstName: 'Augusta', lastName: 'King', email, points: 28, version: 9 });
  });

  it('replays in full, counting a read fault, when a stored snapshot has the wrong shape: never a wrong state', async () => {
    const email = `shape.${randomUUID()}@example.com`;
    const { body: created } = await request(t.server).post('/users').send({ firstName: 'Ada', lastName: 'Lovelace', email }).expect(201);
    const id = created.id as string;
    for (let i = 1; i <= 3; i++) await request(t.server).post(`/users/${id}/points`).send({ points: 10, reason: 'quiz' }).expect(201);
    await es.snapshots.flush();
    const faults = async () =>
      counter((await request(t.server).get('/metrics').expect(200)).text, 'snapshot_faults_total', { operation: 'read' });
    const before = await faults();
    await es.db.query(`UPDATE "${t.schema}".snapshots SET state = '{"points": "lots"}' WHERE stream_id = $1`, [`user-${id}`]);
    const award = await request(t.server).post(`/users/${id}/points`).send({ points: 1, reason: 'after' }).expect(201);
    expect(award.body.version).toBe(5);
    expect(await faults()).toBe(before + 1);
    expect(await loaded(id)).toMatchObject({ firstName: 'Ada', lastName: 'Lovelace', email, points: 31, version: 5 });
  });
});
