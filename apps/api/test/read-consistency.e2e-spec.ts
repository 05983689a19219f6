import { randomBytes } from 'node:crypto';
import { setTimeout as pace } from 'node:timers/promises';
import Redis from 'ioredis';
import { Client } from 'pg';
import { TEST_DATABASE_URL } from '@app/event-store/testing';
import { deleteNamespace, TEST_REDIS_URL } from '@app/stampede-cache/testing';
import { eventually } from '../../../test/eventually';
import { TcpProxy } from '../../../test/tcp-proxy';
import { counter } from './prometheus';
import { startTestApp, type TestApp } from './test-app';

const WITHIN_MS = 1_000;
const ROUNDS = 6;

interface Answer {
  instance: number;
  path: 'user' | 'trending';
  startedAt: number;
  status: number;
  cache: string | null;
  firstName?: string;
  points?: number;
}

/**
 * The read side's promise over HTTP, with two instances on one Redis and long TTLs
 * (60 s) and a slow leaderboard (250 ms per recompute): readers on both instances read
 * steadily while the test awards points and renames a user. Each rename lands while the
 * leaderboard recompute that the award triggered is still running (the race that used to
 * leave the old name cached for the whole TTL). Once both projections have committed a
 * write (watched on their checkpoints, not through the cache), every answer that starts a
 * second later, on either instance, shows it.
 */
describe('reads after a write, across two instances (e2e)', () => {
  const namespace = `rc${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const env = {
    REDIS_URL: TEST_REDIS_URL,
    CACHE_NAMESPACE: namespace,
    TRENDING_CACHE_TTL_MS: '60000',
    USER_CACHE_TTL_MS: '60000',
    TRENDING_MIN_COMPUTE_MS: '250',
  };
  const apps: TestApp[] = [];
  const urls: string[] = [];
  const db = new Client({ connectionString: TEST_DATABASE_URL });

  const send = async (method: string, url: string, body: object) => {
    const res = await fetch(url, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(res.status).toBeLessThan(300);
    return (await res.json()) as { id: string; position: number };
  };
  const trendingRuns = async () => {
    const texts = await Promise.all(urls.map((url) => fetch(`${url}/metrics`).then((r) => r.text())));
    return texts.reduce((sum, text) => sum + counter(text, 'cache_factory_runs_total', { cache: 'trending' }), 0);
  };
  const checkpoints = async (): Promise<number> => {
    const { rows } = await db.query(
      `SELECT min(position) AS position FROM "${apps[0].schema}".projections WHERE name IN ('user_profiles', 'points_ledger')`,
    );
    return Number(rows[0].position ?? 0);
  };

  beforeAll(async () => {
    apps.push(await startTestApp(env));
    apps.push(await startTestApp({ ...env, EVENT_STORE_SCHEMA: apps[0].schema }));
    for (const t of apps) {
      await t.app.listen(0, '127.0.0.1');
      urls.push(await t.app.getUrl());
    }
    await db.connect();
  });

  afterAll(async () => {
    await apps[1]?.close(); // shares the first one's schema: closed first
    await apps[0]?.close();
    await db.end();
    const redis = new Redis(TEST_REDIS_URL);
    await deleteNamespace(redis, namespace).finally(() => redis.quit());
  });

  it('shows every committed rename and award on every instance within a second, for profiles and the leaderboard', async () => {
    const user = await send('POST', `${urls[0]}/users`, { firstName: 'Round0', lastName: 'Reader', email: 'reader@example.com' });
    let points = 0;
    const answers: Answer[] = [];
    let reading = true;
    let readingOn = [0, 1]; // some rounds read through one instance only, as behind a sticky load balancer
    const read = async (instance: number, path: Answer['path']) => {
      const startedAt = Date.now();
      const res = await fetch(`${urls[instance]}${path === 'user' ? `/users/${user.id}` : '/leaderboard/trending?window=24h&limit=10'}`);
      const body = (await res.json()) as any;
      const entry = path === 'user' ? body : body.entries?.find((e: { userId: string }) => e.userId === user.id);
      answers.push({
        instance,
        path,
        startedAt,
        status: res.status,
        cache: res.headers.get('x-cache'),
        firstName: entry?.firstName,
        points: entry?.points,
      });
    };
    const reader = async (instance: number, path: Answer['path']) => {
      while (reading) {
        if (readingOn.includes(instance)) await read(instance, path);
        await pace(20); // a steady request rate
      }
    };
    const readers = [0, 1].flatMap((instance) => [reader(instance, 'user'), reader(instance, 'trending')]);

    const stale: Array<Answer & { round: number; lateByMs: number }> = [];
    try {
      for (let round = 1; round <= ROUNDS; round++) {
        readingOn = round % 3 === 0 ? [0, 1] : [(round % 3) - 1];
        points += round;
        const runsBefore = await trendingRuns();
        const award = await send('POST', `${urls[round % 2]}/users/${user.id}/points`, { points: round, reason: `round ${round}` });
        await eventually(async () => (await checkpoints()) >= award.position, 10_000, `the award of round ${round} to commit`);
        // The award's invalidation made the readers start a 250 ms recompute: rename while it runs.
        await eventually(async () => (await trendingRuns()) > runsBefore, 10_000, `a leaderboard recompute in round ${round}`, {
          everyMs: 5,
        });
        const rename = await send('PUT', `${urls[(round + 1) % 2]}/users/${user.id}/name`, {
          firstName: `Round${round}`,
          lastName: 'Reader',
        });
        await eventually(async () => (await checkpoints()) >= rename.position, 10_000, `both projections to commit round ${round}`);
        const committedAt = Date.now();
        const settledBy = committedAt + WITHIN_MS;
        // Wait until every active reader has answered at least twice after the deadline, then ask both instances too.
        await eventually(
          () =>
            readingOn.every((i) =>
              ['user', 'trending'].every(
                (p) => answers.filter((a) => a.instance === i && a.path === p && a.startedAt >= settledBy).length >= 2,
              ),
            ),
          15_000,
          `answers after round ${round}`,
        );
        for (const instance of [0, 1]) for (const path of ['user', 'trending'] as const) await read(instance, path);
        for (const answer of answers.filter((a) => a.startedAt >= settledBy)) {
          if (answer.status !== 200 || answer.firstName !== `Round${round}` || answer.points !== points)
            stale.push({ ...answer, round, lateByMs: answer.startedAt - committedAt });
        }
        answers.length = 0;
      }
    } finally {
      reading = false;
      await Promise.all(readers);
    }
    expect(stale).toEqual([]);
  });
});

/**
 * The lock holder's computation fails: the instance waiting on its lock answers at once
 * (here a 503, as nothing stale exists), instead of sleeping until the lock expires.
 */
describe('a failing lock holder, across two instances (e2e)', () => {
  const namespace = `hf${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const target = new URL(TEST_DATABASE_URL);
  const proxy = new TcpProxy(target.hostname, Number(target.port || 5432));
  let holder: TestApp;
  let waiter: TestApp;

  beforeAll(async () => {
    const env = { REDIS_URL: TEST_REDIS_URL, CACHE_NAMESPACE: namespace, TRENDING_MIN_COMPUTE_MS: '0' };
    waiter = await startTestApp(env);
    const holderUrl = new URL(TEST_DATABASE_URL);
    holderUrl.port = String(await proxy.start());
    holder = await startTestApp({
      ...env,
      EVENT_STORE_SCHEMA: waiter.schema,
      DATABASE_URL: holderUrl.toString(),
      RUN_PROJECTIONS: 'false',
    });
    for (const t of [holder, waiter]) await t.app.listen(0, '127.0.0.1');
  });

  afterAll(async () => {
    await proxy.restore();
    await holder?.close();
    await waiter?.close();
    await proxy.cut();
    const redis = new Redis(TEST_REDIS_URL);
    await deleteNamespace(redis, namespace).finally(() => redis.quit());
  });

  it('answers the waiters on the other instance within 100 ms of the failure', async () => {
    const path = '/leaderboard/trending?window=30d&limit=3';
    const lockWaits = async () =>
      counter(await (await fetch(`${await waiter.app.getUrl()}/metrics`)).text(), 'cache_lock_waits_total', { cache: 'trending' });
    proxy.freeze(); // the holder's database stops answering mid-query
    let failedAt = 0; // the holder's own caller gets the failure as soon as its factory fails
    const holding = fetch(`${await holder.app.getUrl()}${path}`).then((res) => ((failedAt = Date.now()), res));
    const waitsBefore = await lockWaits();
    let answeredAt = 0;
    const waiting = fetch(`${await waiter.app.getUrl()}${path}`).then(
      async (res) => ((answeredAt = Date.now()), { status: res.status, body: (await res.json()) as any }),
    );
    await eventually(async () => (await lockWaits()) > waitsBefore, 5_000, 'the second instance to wait on the lock');
    await proxy.cut(); // the holder's query fails
    const [held, waited] = await Promise.all([holding, waiting]);
    expect(held.status).toBe(503);
    expect(waited).toMatchObject({ status: 503, body: { code: 'DATABASE.UNAVAILABLE' } });
    expect(answeredAt - failedAt).toBeLessThan(100); // not the lock's lease, nor the 10 s hard timeout
  });
});
