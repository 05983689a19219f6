import Redis from 'ioredis';
import request from 'supertest';
import { randomBytes } from 'node:crypto';
import { EVENT_STORE_HANDLE, type EventStoreHandle } from '@app/event-store';
import { eventually } from '../../../test/eventually';
import { uniqueSchema } from '@app/event-store/testing';
import { deleteNamespace, TEST_REDIS_URL as REDIS_URL } from '@app/stampede-cache/testing';
import { startOwnPostgres, type OwnPostgres } from './own-postgres';
import { startTestApp, TEST_ADMIN_TOKEN, type TestApp } from './test-app';
import { userStreamId } from '../src/users/user-stream';

/**
 * Erasure end to end, on two instances sharing the log and Redis (b runs no projections):
 * register, rename, award, erase; then nothing of the person is readable anywhere (the log's
 * rows, an export, every other table, Redis), the email is free again, a rebuild of every
 * projection equals the live models, and `events:verify` is clean. On a PostgreSQL of its own:
 * global readers wait for every older open transaction of the cluster (ADR 0002), and another
 * test's long bulk transaction on the shared server would hold the projections back.
 */
describe('erasure by crypto-shredding (e2e)', () => {
  const namespace = `erase${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const schema = uniqueSchema('e2e_erase');
  // A loaded machine may take seconds to start the projections: reads wait for them up to 10 s.
  // SNAPSHOT_EVERY=2: the award's load replays 2 events, so the person gets a snapshot before the erasure.
  const env = {
    REDIS_URL,
    CACHE_NAMESPACE: namespace,
    EVENT_STORE_SCHEMA: schema,
    READ_YOUR_WRITES_TIMEOUT_MS: '10000',
    SNAPSHOT_EVERY: '2',
  };
  let pg: OwnPostgres;
  const admin = { Authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
  let a: TestApp;
  let b: TestApp;
  let redis: Redis;
  let es: EventStoreHandle;

  beforeAll(async () => {
    pg = await startOwnPostgres(['-c', 'fsync=off']);
    a = await startTestApp({ ...env, DATABASE_URL: pg.url });
    b = await startTestApp({ ...env, DATABASE_URL: pg.url, RUN_PROJECTIONS: 'false' });
    es = a.app.get<EventStoreHandle>(EVENT_STORE_HANDLE);
    redis = new Redis(REDIS_URL);
  }, 120_000);
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await deleteNamespace(redis, namespace);
    redis?.disconnect();
    await pg?.stop();
  }, 60_000);

  const read = (t: TestApp, id: string, position: number) => request(t.server).get(`/users/${id}`).set('X-Min-Position', String(position));

  /** Every row of every table of the schema (log, keys, read models, reservations, idempotency), as text. */
  const everyTable = async () => {
    const tables = await es.db.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'BASE TABLE'`,
      [schema],
    );
    const texts = await Promise.all(
      tables.map(async ({ table_name }) => {
        const rows = await es.db.query<{ row: string }>(`SELECT t::text AS row FROM "${schema}"."${table_name}" t`);
        return `${table_name}: ${rows.map((r) => r.row).join('\n')}`;
      }),
    );
    return { names: tables.map((t) => t.table_name), text: texts.join('\n') };
  };

  /** Every value under the run's namespace, whatever its Redis type. */
  const everyRedisValue = async () => {
    const keys = await redis.keys(`${namespace}*`);
    const values = await Promise.all(
      keys.map(async (key) => {
        const type = await redis.type(key);
        if (type === 'string') return redis.getBuffer(key).then((v) => v?.toString('latin1'));
        if (type === 'hash') return redis.hgetall(key).then((v) => JSON.stringify(v));
        if (type === 'set') return redis.smembers(key).then((v) => v.join());
        if (type === 'zset') return redis.zrange(key, 0, -1).then((v) => v.join());
        if (type === 'list') return redis.lrange(key, 0, -1).then((v) => v.join());
        return `${key}: ${type}`;
      }),
    );
    return { keys, text: `${keys.join('\n')}\n${values.join('\n')}` };
  };

  const liveModels = () =>
    Promise.all(
      ['user_profiles', 'points_ledger', 'ledger_names'].map((table) =>
        es.db.query<{ row: string }>(`SELECT t::text AS row FROM ${es.projections.tableName(table)} t ORDER BY 1`),
      ),
    );

  it('register, rename, award, erase: 410 everywhere, no plaintext left, email free again, rebuild equal, verify clean', async () => {
    const mark = randomBytes(4).toString('hex');
    const secrets = [`Zorya${mark}`, `Quill${mark}`, `Vesna${mark}`, `Moroz${mark}`, `mira.${mark}`, `reason${mark}`];
    const email = `mira.${mark}@example.com`;
    const { body: user } = await request(a.server).post('/users').send({ firstName: secrets[0], lastName: secrets[1], email }).expect(201);
    await request(a.server).put(`/users/${user.id}/name`).send({ firstName: secrets[2], lastName: secrets[3] }).expect(200);
    const { body: award } = await request(a.server).post(`/users/${user.id}/points`).send({ points: 7, reason: secrets[5] }).expect(201);
    const { body: keeper } = await request(a.server)
      .post('/users')
      .send({ firstName: 'Kept', lastName: 'User', email: `kept.${mark}@example.com` })
      .expect(201);
    // The snapshot taken after the award's load holds the names and email encrypted with the person's key.
    const snapshotsOf = (id: string) =>
      es.db.query<{ state: string }>(`SELECT state::text AS state FROM "${schema}".snapshots WHERE stream_id = $1`, [userStreamId(id)]);
    const [snapshot] = await eventually(
      async () => {
        const rows = await snapshotsOf(user.id);
        return rows.length > 0 ? rows : undefined;
      },
      10_000,
      'a snapshot of the user',
    );
    expect(snapshot.state).toContain('"$pii"');
    expect(secrets.filter((x) => snapshot.state.includes(x)).concat(snapshot.state.includes(email) ? [email] : [])).toEqual([]);
    // Both instances cache the person's view (L1 and Redis) before the erasure.
    for (const t of [a, b]) expect((await read(t, user.id, award.position).expect(200)).body).toMatchObject({ firstName: secrets[2] });

    await request(a.server).delete(`/users/${user.id}`).expect(401);
    const erased = await request(a.server).delete(`/users/${user.id}`).set(admin).expect(200);
    expect(erased.body).toEqual({ id: user.id, version: 4, position: expect.any(Number) });

    expect(await snapshotsOf(user.id)).toEqual([]);
    for (const t of [a, b]) {
      const gone = await read(t, user.id, erased.body.position).expect(410);
      expect(gone.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(gone.body).toMatchObject({ status: 410, code: 'USERS.ERASED' });
    }
    await request(a.server).delete(`/users/${user.id}`).set(admin).expect(410);
    await request(a.server).put(`/users/${user.id}/name`).send({ firstName: 'Back', lastName: 'Again' }).expect(410);
    await request(a.server).post(`/users/${user.id}/points`).send({ points: 1, reason: 'again' }).expect(410);
    await read(b, keeper.id, erased.body.position).expect(200);

    const absent = (text: string) => secrets.filter((s) => text.toLowerCase().includes(s.toLowerCase()));
    const tables = await everyTable();
    expect(tables.names).toEqual(expect.arrayContaining(['events', 'personal_data_keys', 'email_reservations', 'user_profiles']));
    expect(absent(tables.text)).toEqual([]);
    const exported = await request(a.server).get('/admin/events/export').set(admin).buffer(true).parse(asText).expect(200);
    expect(exported.body.split('\n').filter(Boolean)).toHaveLength(5);
    expect(exported.body).toContain('"$pii":"aes-256-gcm"');
    expect(absent(exported.body)).toEqual([]);
    // The erasure's projection commit deleted the cached views (a tag bump alone would leave the old value in Redis).
    const cached = await eventually(
      async () => {
        const values = await everyRedisValue();
        return absent(values.text).length === 0 ? values : undefined;
      },
      5000,
      'no cached value of Redis holds the erased person',
    );
    expect(cached.keys.length).toBeGreaterThan(0);

    const { body: again } = await request(a.server).post('/users').send({ firstName: 'New', lastName: 'Owner', email }).expect(201);

    for (const name of es.projections.names()) {
      const caughtUp = await es.projections.waitFor(name, again.position, 10_000);
      if (!caughtUp) throw new Error(`${name} did not catch up: ${JSON.stringify(await es.projections.status())}`);
    }
    const live = await liveModels();
    for (const name of es.projections.names()) await es.projections.rebuild(name);
    await eventually(
      async () => (await es.projections.status()).every((p) => p.rebuild === null && p.checkpoint >= again.position),
      30_000,
      'every projection rebuilt and switched live',
    );
    expect(await liveModels()).toEqual(live);
    expect(live[0].map((r) => r.row).join()).toMatch(/\(.*,,,,t,7,4,/); // the erased user's row: no names, no email, erased

    const verify = await request(a.server).post('/admin/events/verify').set(admin).expect(200);
    expect(verify.body).toMatchObject({ failureCount: 0, duplicateEmailCount: 0, plaintextPersonalFields: 0 });
  }, 90_000);
});

/** A response body as text, whatever its content type. */
const asText = (res: request.Response, done: (error: Error | null, body: string) => void) => {
  let text = '';
  res.on('data', (chunk: Buffer) => (text += chunk.toString()));
  res.on('end', () => done(null, text));
};
