import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import Redis from 'ioredis';
import { deleteNamespace, TEST_REDIS_URL as REDIS_URL } from '@app/stampede-cache/testing';
import { eventually } from '../../../test/eventually';
import { counter } from './prometheus';
import { startTestApp, TestApp } from './test-app';

/*
 * Timing: TTL 5 s, recompute padded to 200 ms. A value computed at the start of the
 * burst is read by the rest of the burst well under 1.5 s later, so at least 3.5 s
 * before its expiry. XFetch refreshes a fresh value early with probability
 * exp(-(time to expiry) / delta) per read; with delta ~200-250 ms that is at most
 * exp(-14) ~ 1e-6 per read, ~2e-4 for the whole burst: the one run we count is the
 * expiry refresh, not a lucky early one.
 */

const TTL_MS = 5_000;
const COMPUTE_MS = 200;
const BURST = 200;

interface Reply {
  status: number;
  cache: string | null;
  position: number;
  contentType: string | null;
  body: any;
}

describe('trending leaderboard across two instances (e2e)', () => {
  const namespace = `t${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const env = { REDIS_URL, CACHE_NAMESPACE: namespace, TRENDING_CACHE_TTL_MS: String(TTL_MS), TRENDING_MIN_COMPUTE_MS: String(COMPUTE_MS) };
  let a: TestApp;
  let b: TestApp;
  const urls: string[] = [];
  const users: Record<string, string> = {};
  let seededAt = 0;

  const get = async (base: string, path: string, headers: Record<string, string> = {}): Promise<Reply> => {
    const res = await fetch(`${base}${path}`, { headers });
    return {
      status: res.status,
      cache: res.headers.get('x-cache'),
      position: Number(res.headers.get('x-read-position')),
      contentType: res.headers.get('content-type'),
      body: await res.json(),
    };
  };
  const post = async (path: string, body: object): Promise<{ id: string; position: number }> => {
    const res = await fetch(`${urls[0]}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(201);
    return (await res.json()) as { id: string; position: number };
  };
  const factoryRuns = async () => {
    const texts = await Promise.all(urls.map((url) => fetch(`${url}/metrics`).then((r) => r.text())));
    return texts.reduce((sum, text) => sum + counter(text, 'cache_factory_runs_total', { cache: 'trending' }), 0);
  };
  const trending = (i: number, query = '', headers: Record<string, string> = {}) =>
    get(urls[i % 2], `/leaderboard/trending?window=24h&limit=10${query}`, headers);

  beforeAll(async () => {
    a = await startTestApp(env);
    b = await startTestApp({ ...env, EVENT_STORE_SCHEMA: a.schema });
    for (const t of [a, b]) {
      await t.app.listen(0, '127.0.0.1');
      urls.push(await t.app.getUrl());
    }
    // Ada 50, Grace 30 + 15 = 45, Alan 10; Edsger has no points and is not trending.
    const awards: Array<[string, number]> = [
      ['Ada', 50],
      ['Grace', 30],
      ['Grace', 15],
      ['Alan', 10],
    ];
    for (const name of ['Ada', 'Grace', 'Alan', 'Edsger']) {
      users[name] = (await post('/users', { firstName: name, lastName: 'Test', email: `${name.toLowerCase()}@example.com` })).id;
    }
    for (const [name, points] of awards)
      seededAt = Math.max(seededAt, (await post(`/users/${users[name]}/points`, { points, reason: 'seed' })).position);
  });

  afterAll(async () => {
    await b?.close(); // shares a's schema: closed first, and it must not drop it
    await a?.close();
    const redis = new Redis(REDIS_URL);
    await deleteNamespace(redis, namespace).finally(() => redis.quit());
  });

  it('answers a 200-request burst right after expiry with one aggregation across both instances', async () => {
    const first = await trending(0, '', { 'X-Min-Position': String(seededAt) });
    expect(first.status).toBe(200);
    expect(first.position).toBeGreaterThanOrEqual(seededAt);
    expect(first.body.entries).toEqual([
      { userId: users.Ada, firstName: 'Ada', lastName: 'Test', points: 50 },
      { userId: users.Grace, firstName: 'Grace', lastName: 'Test', points: 45 },
      { userId: users.Alan, firstName: 'Alan', lastName: 'Test', points: 10 },
    ]);

    // Warm until both instances HIT one entry: a late projection commit may still invalidate the first value.
    const warm = await eventually(
      async () => {
        const [onA, onB] = [await trending(0), await trending(1)];
        return onA.cache === 'HIT' && onB.cache === 'HIT' && onA.body.computedAt === onB.body.computedAt ? onB : undefined;
      },
      3_000,
      'both instances to HIT one cached entry',
      { everyMs: 50 },
    );
    expect(warm.cache).toBe('HIT');

    // Real time must pass: the entry expires on the instances' clocks, which an e2e test cannot advance.
    const expiresAt = Date.parse(warm.body.computedAt) + TTL_MS;
    await sleep(Math.max(0, expiresAt - Date.now()) + 100);
    const before = await factoryRuns();
    const burst = await Promise.all(Array.from({ length: BURST }, (_, i) => trending(i)));
    const runs = (await factoryRuns()) - before;

    expect(runs).toBe(1);
    expect(burst.map((r) => r.status)).toEqual(Array(BURST).fill(200));
    const answers = new Set(burst.map((r) => JSON.stringify(r.body.entries)));
    expect([...answers]).toEqual([JSON.stringify(first.body.entries)]);
    // Stale-while-revalidate: the old value was served while the one recompute ran.
    expect(burst.some((r) => r.cache === 'STALE')).toBe(true);
    expect(burst.every((r) => ['HIT', 'STALE', 'MISS'].includes(r.cache!))).toBe(true);
  });

  it('ignores nonce query parameters: same cache entry, no extra aggregation', async () => {
    await trending(0); // make sure an entry is fresh on both
    const before = await factoryRuns();
    const plain = await trending(0);
    const nonce = await trending(0, '&_=123');
    const nonceOnB = await trending(1, '&_=456&utm_source=x');
    // Status first, so a refusal shows its problem body.
    expect(nonce).toMatchObject({ status: 200 });
    expect(nonceOnB).toMatchObject({ status: 200 });
    expect([plain.cache, nonce.cache, nonceOnB.cache]).toEqual(['HIT', 'HIT', 'HIT']);
    expect(nonce.body).toEqual(plain.body);
    expect(nonceOnB.body).toEqual(plain.body);
    expect((await factoryRuns()) - before).toBe(0);
  });

  it.each([
    ['unknown window', '?window=1y', ['window']],
    ['limit 0', '?limit=0', ['limit']],
    ['limit 101', '?limit=101', ['limit']],
    ['non-numeric limit', '?limit=ten', ['limit']],
    ['both', '?window=week&limit=-1', ['window', 'limit']],
  ])('rejects %s with 400 problem+json naming the field', async (_name, query, fields) => {
    const res = await get(urls[0], `/leaderboard/trending${query}`);
    expect(res.status).toBe(400);
    expect(res.contentType).toMatch(/application\/problem\+json/);
    expect(res.body).toMatchObject({ status: 400, code: 'REQUEST.VALIDATION_FAILED' });
    expect(res.body.errors.map((e: { field: string }) => e.field).sort()).toEqual([...fields].sort());
  });

  it('reads its own write through X-Min-Position although an older value is cached', async () => {
    const cached = await trending(1);
    expect(cached.cache).toBe('HIT');
    expect(cached.body.entries[0]).toMatchObject({ userId: users.Ada, points: 50 });

    const write = await post(`/users/${users.Alan}/points`, { points: 100, reason: 'read your writes' });
    expect(write.position).toBeGreaterThan(cached.position);

    const fresh = await trending(1, '', { 'X-Min-Position': String(write.position) });
    expect(fresh.status).toBe(200);
    expect(fresh.position).toBeGreaterThanOrEqual(write.position);
    expect(fresh.body.entries.map((e: { userId: string; points: number }) => [e.userId, e.points])).toEqual([
      [users.Alan, 110],
      [users.Ada, 50],
      [users.Grace, 45],
    ]);
  });
});
