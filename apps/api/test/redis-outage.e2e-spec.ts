import { randomBytes } from 'node:crypto';
import { setTimeout as pace } from 'node:timers/promises';
import Redis from 'ioredis';
import { startRedisServer, type RedisServerProcess } from '@app/stampede-cache/testing';
import { eventually } from '../../../test/eventually';
import { counter } from './prometheus';
import { startTestApp, TestApp } from './test-app';

type Phase = 'before' | 'outage' | 'restarted';

interface Reply {
  phase: Phase;
  path: string;
  status: number;
  cache: string | null;
  body: any;
}

/**
 * Fault test at the HTTP level: the Redis this test started is SIGKILLed while reads
 * flow. Users must see only 200s (the cache degrades to L1 and the database), writes
 * made during the outage must be readable, and once Redis is back on the same port
 * the app writes to it and serves hits from the cache again.
 */
describe('Redis outage under read traffic (e2e)', () => {
  const namespace = `o${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  let redis: { server: RedisServerProcess; stop: () => Promise<void> } | undefined;
  let t: TestApp | undefined;
  let base = '';

  const get = async (path: string, phase: Phase, headers: Record<string, string> = {}): Promise<Reply> => {
    const res = await fetch(`${base}${path}`, { headers });
    return { phase, path, status: res.status, cache: res.headers.get('x-cache'), body: await res.json().catch(() => null) };
  };
  const post = async (path: string, body: object): Promise<{ id: string; position: number }> => {
    const res = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(201);
    return (await res.json()) as { id: string; position: number };
  };
  const metric = async (result: string) =>
    counter(await (await fetch(`${base}/metrics`)).text(), 'cache_requests_total', { cache: 'trending', result });
  const namespaceKeys = async () => {
    const client = new Redis(redis!.server.url, { lazyConnect: true, maxRetriesPerRequest: 0 });
    try {
      await client.connect();
      return await client.keys(`${namespace}:*`);
    } finally {
      client.disconnect();
    }
  };

  beforeAll(async () => {
    redis = await startRedisServer();
    t = await startTestApp({
      REDIS_URL: redis.server.url,
      CACHE_NAMESPACE: namespace,
      // Short TTLs so values are recomputed (and written back) during the outage too.
      TRENDING_CACHE_TTL_MS: '400',
      TRENDING_MIN_COMPUTE_MS: '20',
      USER_CACHE_TTL_MS: '400',
    });
    await t.app.listen(0, '127.0.0.1');
    base = await t.app.getUrl();
  });

  afterAll(async () => {
    try {
      await t?.close();
    } finally {
      await redis?.stop(); // kills whichever redis-server child is current, even after a failed assertion
    }
  });

  it('answers every read with 200 through a Redis crash, then uses the cache again after restart', async () => {
    const ada = await post('/users', { firstName: 'Ada', lastName: 'Lovelace', email: 'ada@example.com' });
    const award = await post(`/users/${ada.id}/points`, { points: 40, reason: 'seed' });
    expect((await get('/leaderboard/trending', 'before', { 'X-Min-Position': String(award.position) })).status).toBe(200);

    let phase: Phase = 'before';
    let running = true;
    const replies: Reply[] = [];
    const paths = ['/leaderboard/trending', '/leaderboard/trending?window=7d&limit=5', `/users/${ada.id}`];
    const traffic = (async () => {
      while (running) {
        replies.push(...(await Promise.all(paths.map((path) => get(path, phase)))));
        await pace(15); // a steady request rate, not a wait for something to happen
      }
    })();

    const count = (p: Phase) => replies.filter((r) => r.phase === p).length;
    try {
      await eventually(() => count('before') > 20, 10_000, 'reads before the crash');
      phase = 'outage';
      await redis!.server.kill('SIGKILL');
      // Writes go to PostgreSQL only, so they work; read-your-writes must too (L1 and the database).
      const during = await post(`/users/${ada.id}/points`, { points: 2, reason: 'during outage' });
      const user = await get(`/users/${ada.id}`, 'outage', { 'X-Min-Position': String(during.position) });
      expect(user).toMatchObject({ status: 200, body: { points: 42 } });
      const board = await get('/leaderboard/trending', 'outage', { 'X-Min-Position': String(during.position) });
      expect(board).toMatchObject({ status: 200, body: { entries: [{ userId: ada.id, points: 42 }] } });
      await eventually(() => count('outage') > 50, 10_000, 'reads during the outage');

      phase = 'restarted';
      await redis!.server.start(); // same port, empty data
      // The breaker half-opens after its reset timeout (5 s), then closes and the app writes entries to Redis again.
      await eventually(
        async () => {
          await get('/leaderboard/trending', 'restarted');
          return (await namespaceKeys()).some((key) => key.includes('leaderboard.trending'));
        },
        20_000,
        'a trending entry written to the restarted Redis',
      );
    } finally {
      running = false;
      await traffic;
    }

    const byPhase = (p: Phase) => replies.filter((r) => r.phase === p);
    expect(byPhase('before').length).toBeGreaterThan(20);
    expect(byPhase('outage').length).toBeGreaterThan(50);
    expect(byPhase('restarted').length).toBeGreaterThan(20);
    expect(replies.filter((r) => r.status !== 200).map(({ phase: p, path, status, body }) => ({ p, path, status, body }))).toEqual([]);
    expect(byPhase('outage').every((r) => r.path !== paths[2] || r.body?.points >= 40)).toBe(true);

    // The cache serves again: repeated reads are hits and the hit counter moves.
    const hitsBefore = await metric('hit');
    const repeated = [];
    for (let i = 0; i < 5; i++) repeated.push(await get('/leaderboard/trending?window=30d', 'restarted'));
    expect(repeated.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(repeated.slice(1).filter((r) => r.cache === 'HIT').length).toBeGreaterThanOrEqual(3);
    expect((await metric('hit')) - hitsBefore).toBeGreaterThanOrEqual(3);
    expect((await namespaceKeys()).some((key) => key.includes('window=30d'))).toBe(true);
  });
});
