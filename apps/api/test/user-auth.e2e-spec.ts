import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Redis from 'ioredis';
import { exportJWK, generateKeyPair, SignJWT, type KeyLike } from 'jose';
import request from 'supertest';
import { deleteNamespace, TEST_REDIS_URL } from '@app/stampede-cache/testing';
import { eventually } from '../../../test/eventually';
import { startTestApp, TEST_ADMIN_TOKEN, type TestApp } from './test-app';

const SECRET = 'e2e-user-token-secret-of-32-chars-or-more';
const ADMIN = `Bearer ${TEST_ADMIN_TOKEN}`;
/** These tests are about who sees what, not read latency: a loaded machine must not turn a read-your-writes wait into a 503. */
const READ_YOUR_WRITES_TIMEOUT_MS = '10000';

/** A user token as an identity provider would issue it: HS256, `sub` = user id, expiring in an hour unless told. */
async function tokenFor(sub: string, claims: Record<string, unknown> = {}, secret = SECRET): Promise<string> {
  const token = await new SignJWT({ sub, exp: Math.floor(Date.now() / 1000) + 3600, ...claims })
    .setProtectedHeader({ alg: 'HS256' })
    .sign(new TextEncoder().encode(secret));
  return `Bearer ${token}`;
}

describe('who sees personal data: user auth on (e2e)', () => {
  const namespace = `auth${randomBytes(4).toString('hex')}`;
  let t: TestApp;
  let redis: Redis;

  beforeAll(async () => {
    t = await startTestApp({ AUTH_JWT_SECRET: SECRET, REDIS_URL: TEST_REDIS_URL, CACHE_NAMESPACE: namespace, READ_YOUR_WRITES_TIMEOUT_MS });
    redis = new Redis(TEST_REDIS_URL);
  });
  afterAll(async () => {
    await t?.close();
    if (redis) {
      await deleteNamespace(redis, namespace);
      redis.disconnect();
    }
  });

  /** A new user (emails are unique), its position, and its own token. */
  async function registered(): Promise<{ id: string; email: string; position: number; own: string }> {
    const email = `ada.${randomUUID()}@example.com`;
    const res = await request(t.server).post('/users').send({ firstName: 'Ada', lastName: 'Lovelace', email }).expect(201);
    return { id: res.body.id, email, position: res.body.position, own: await tokenFor(res.body.id) };
  }
  const read = (id: string, authorization?: string, minPosition?: number) => {
    const req = request(t.server).get(`/users/${id}`);
    if (authorization) req.set('Authorization', authorization);
    if (minPosition) req.set('X-Min-Position', String(minPosition));
    return req;
  };
  const rename = (id: string, authorization?: string) => {
    const req = request(t.server).put(`/users/${id}/name`).send({ firstName: 'Augusta', lastName: 'King' });
    return authorization ? req.set('Authorization', authorization) : req;
  };
  const award = (id: string, authorization?: string, key?: string) => {
    const req = request(t.server).post(`/users/${id}/points`).send({ points: 5, reason: 'kind' });
    if (key) req.set('Idempotency-Key', key);
    return authorization ? req.set('Authorization', authorization) : req;
  };

  it("shows the email only to the user's own token and the admin, privately; everyone else gets the public view", async () => {
    const ada = await registered();
    const other = await tokenFor(randomUUID());
    const publicView = { id: ada.id, firstName: 'Ada', lastName: 'Lovelace', points: 0, version: 1 };

    for (const who of [undefined, other]) {
      const res = await read(ada.id, who, ada.position).expect(200);
      expect(res.body).toEqual(publicView);
      expect(res.headers['cache-control']).toBeUndefined();
      expect(res.headers.vary).toMatch(/Authorization/);
    }
    for (const who of [ada.own, ADMIN]) {
      const res = await read(ada.id, who, ada.position).expect(200);
      expect(res.body).toEqual({ ...publicView, email: ada.email });
      expect(res.headers['cache-control']).toBe('private, no-store');
      expect(res.headers.vary).toMatch(/Authorization/);
    }
  });

  it.each([
    ['an expired token', (id: string) => tokenFor(id, { exp: Math.floor(Date.now() / 1000) - 60 })],
    ['a token signed with another secret', (id: string) => tokenFor(id, {}, 'another-secret-of-at-least-32-characters')],
    ['a token that is not a JWT', () => Promise.resolve('Bearer not-a-token')],
    ['another scheme', () => Promise.resolve('Basic dXNlcjpwYXNz')],
  ])('answers 401 problem+json with WWW-Authenticate: Bearer to %s, on every user route', async (_, credentials) => {
    const ada = await registered();
    const authorization = await credentials(ada.id);
    for (const req of [read(ada.id, authorization), rename(ada.id, authorization), award(ada.id, authorization)]) {
      const res = await req.expect(401);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(res.headers['www-authenticate']).toBe('Bearer');
      expect(res.body).toMatchObject({ status: 401, code: 'AUTH.INVALID_TOKEN' });
    }
  });

  it('lets only that user or an admin rename, and only an admin award points; refusals append nothing', async () => {
    const ada = await registered();
    const anonymous = await rename(ada.id).expect(401);
    expect(anonymous.headers['www-authenticate']).toBe('Bearer');
    expect(anonymous.body).toMatchObject({ code: 'AUTH.UNAUTHENTICATED' });
    const stranger = await rename(ada.id, await tokenFor(randomUUID())).expect(403);
    expect(stranger.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(stranger.body).toMatchObject({ status: 403, code: 'AUTH.FORBIDDEN' });
    expect((await rename(ada.id, ada.own).expect(200)).body.version).toBe(2);
    expect((await rename(ada.id, ADMIN).expect(200)).body.version).toBe(3);

    await award(ada.id).expect(401);
    expect((await award(ada.id, ada.own).expect(403)).body).toMatchObject({ code: 'AUTH.FORBIDDEN' });
    // A refused request never claims its Idempotency-Key: the admin's request with the same key runs.
    await award(ada.id, ada.own, 'award-1').expect(403);
    const awarded = await award(ada.id, ADMIN, 'award-1').expect(201);
    expect(awarded.body.version).toBe(4);
    const after = await read(ada.id, ADMIN, awarded.body.position).expect(200);
    expect(after.body).toMatchObject({ firstName: 'Augusta', points: 5, version: 4 });
  });

  it("caches the views apart: an anonymous read after the owner's never gets the email, and the owner's after an anonymous one does", async () => {
    const ownerFirst = await registered();
    expect(await read(ownerFirst.id, ownerFirst.own, ownerFirst.position).expect(200)).toMatchObject({ body: { email: ownerFirst.email } });
    const afterOwner = await read(ownerFirst.id).expect(200);
    expect(afterOwner.headers['x-cache']).toBe('MISS');
    expect(afterOwner.body.email).toBeUndefined();
    const anonymousHit = await read(ownerFirst.id).expect(200);
    expect(anonymousHit.headers['x-cache']).toBe('HIT');
    expect(anonymousHit.body.email).toBeUndefined();

    const anonymousFirst = await registered();
    expect((await read(anonymousFirst.id, undefined, anonymousFirst.position).expect(200)).body.email).toBeUndefined();
    const afterAnonymous = await read(anonymousFirst.id, anonymousFirst.own).expect(200);
    expect(afterAnonymous.headers['x-cache']).toBe('MISS');
    expect(afterAnonymous.body.email).toBe(anonymousFirst.email);
    const ownerHit = await read(anonymousFirst.id, anonymousFirst.own).expect(200);
    expect(ownerHit.headers['x-cache']).toBe('HIT');
    expect(ownerHit.body.email).toBe(anonymousFirst.email);

    // In Redis, the email is only ever in a private entry.
    const entries = await redisEntriesOf(ownerFirst.id, anonymousFirst.id);
    expect(Object.keys(entries).sort()).toEqual(
      expect.arrayContaining([expect.stringMatching(/view=private/), expect.stringMatching(/view=public/)]),
    );
    for (const [key, value] of Object.entries(entries)) {
      const holdsEmail = value.includes(ownerFirst.email) || value.includes(anonymousFirst.email);
      expect({ key, holdsEmail }).toEqual({ key, holdsEmail: key.includes('view=private') });
    }
  });

  it('invalidates both views on a write, on their own (no X-Min-Position)', async () => {
    const ada = await registered();
    await read(ada.id, ada.own, ada.position).expect(200);
    await read(ada.id, undefined, ada.position).expect(200);
    expect((await read(ada.id, ada.own).expect(200)).headers['x-cache']).toBe('HIT');
    expect((await read(ada.id).expect(200)).headers['x-cache']).toBe('HIT');
    await rename(ada.id, ada.own).expect(200);
    // Both entries live for USER_CACHE_TTL_MS (60 s): only the projection's invalidation of the tag makes them change sooner.
    const renamedIn = (authorization?: string) => async () => (await read(ada.id, authorization)).body.firstName === 'Augusta';
    await eventually(renamedIn(ada.own), 5000, 'the private view to show the new name');
    await eventually(renamedIn(undefined), 5000, 'the public view to show the new name');
    expect((await read(ada.id, ada.own).expect(200)).body.email).toBe(ada.email);
    expect((await read(ada.id).expect(200)).body.email).toBeUndefined();
  });

  it('documents the bearer scheme and the refusals in OpenAPI', async () => {
    const docs = await request(t.server).get('/docs-json').expect(200);
    expect(docs.body.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    const paths = docs.body.paths;
    expect(paths['/users/{id}'].get.security).toEqual([{ bearer: [] }]);
    expect(Object.keys(paths['/users/{id}/name'].put.responses)).toEqual(expect.arrayContaining(['401', '403']));
    expect(Object.keys(paths['/users/{id}/points'].post.responses)).toEqual(expect.arrayContaining(['401', '403']));
  });

  /** The cache entries in the test's Redis namespace whose key names one of these users. */
  async function redisEntriesOf(...ids: string[]): Promise<Record<string, string>> {
    const entries: Record<string, string> = {};
    for (let cursor = '0'; ;) {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${namespace}:*`, 'COUNT', 1000);
      // Entries are `<namespace>:{<key>}`; their locks and fences have a suffix.
      for (const key of keys.filter((k) => k.endsWith('}') && ids.some((id) => k.includes(id)))) {
        entries[decodeURIComponent(key)] = (await redis.get(key)) ?? '';
      }
      cursor = next;
      if (cursor === '0') return entries;
    }
  }
});

describe('user auth off (e2e): as before, and the service says so', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ READ_YOUR_WRITES_TIMEOUT_MS });
  });
  afterAll(() => t?.close());

  it('shows the email to everyone and ignores tokens it cannot check', async () => {
    const email = `grace.${randomUUID()}@example.com`;
    const created = await request(t.server).post('/users').send({ firstName: 'Grace', lastName: 'Hopper', email }).expect(201);
    const id = created.body.id;
    for (const authorization of [undefined, 'Bearer not-a-token', await tokenFor(randomUUID())]) {
      const req = request(t.server).get(`/users/${id}`).set('X-Min-Position', String(created.body.position));
      const res = await (authorization ? req.set('Authorization', authorization) : req).expect(200);
      expect(res.body.email).toBe(email);
      expect(res.headers['cache-control']).toBeUndefined();
      expect(res.headers.vary).toBeUndefined();
    }
    await request(t.server)
      .put(`/users/${id}/name`)
      .set('Authorization', 'Bearer nope')
      .send({ firstName: 'G', lastName: 'H' })
      .expect(200);
    await request(t.server).post(`/users/${id}/points`).send({ points: 1, reason: 'open' }).expect(201);
  });
});

describe('user auth with keys from a JWKS URL (e2e)', () => {
  const JWKS_TIMEOUT_MS = 300;
  let t: TestApp;
  let jwks: Server;
  let signing: { privateKey: KeyLike; jwk: object };
  let answering = true;
  const held: ServerResponse[] = [];

  beforeAll(async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    signing = { privateKey, jwk: { ...(await exportJWK(publicKey)), kid: 'e2e', alg: 'ES256' } };
    jwks = createServer((_, res) => {
      if (!answering) return void held.push(res);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [signing.jwk] }));
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json`;
    t = await startTestApp({
      AUTH_JWKS_URL: url,
      AUTH_JWKS_TIMEOUT_MS: String(JWKS_TIMEOUT_MS),
      AUTH_JWT_AUDIENCE: 'users-api',
      READ_YOUR_WRITES_TIMEOUT_MS,
    });
  });
  afterAll(async () => {
    await t?.close();
    for (const res of held) res.destroy();
    await new Promise((resolve) => jwks?.close(resolve));
  });

  const es256 = (sub: string, claims: Record<string, unknown> = {}) =>
    new SignJWT({ sub, aud: 'users-api', exp: Math.floor(Date.now() / 1000) + 3600, ...claims })
      .setProtectedHeader({ alg: 'ES256', kid: 'e2e' })
      .sign(signing.privateKey);

  it("shows the user's email to their token, and refuses a token for another audience", async () => {
    const email = `alan.${randomUUID()}@example.com`;
    const created = await request(t.server).post('/users').send({ firstName: 'Alan', lastName: 'Turing', email }).expect(201);
    const { id, position } = created.body;
    const own = await request(t.server)
      .get(`/users/${id}`)
      .set('X-Min-Position', String(position))
      .auth(await es256(id), { type: 'bearer' });
    expect(own.status).toBe(200);
    expect(own.body.email).toBe(email);
    const anonymous = await request(t.server).get(`/users/${id}`).expect(200);
    expect(anonymous.body.email).toBeUndefined();
    const elsewhere = await request(t.server)
      .get(`/users/${id}`)
      .auth(await es256(id, { aud: 'billing' }), { type: 'bearer' })
      .expect(401);
    expect(elsewhere.body).toMatchObject({ code: 'AUTH.INVALID_TOKEN' });
  });

  it('answers 503 with Retry-After within AUTH_JWKS_TIMEOUT_MS when it has no keys and the JWKS server does not answer', async () => {
    // A second instance on the same schema, which has no keys yet (the first one keeps serving the keys it has).
    answering = false;
    const fresh = await startTestApp({
      AUTH_JWKS_URL: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json`,
      AUTH_JWKS_TIMEOUT_MS: String(JWKS_TIMEOUT_MS),
      EVENT_STORE_SCHEMA: t.schema,
    });
    try {
      const started = performance.now();
      const res = await request(fresh.server)
        .get(`/users/${randomUUID()}`)
        .auth(await es256(randomUUID(), { aud: undefined }), { type: 'bearer' });
      const elapsed = performance.now() - started;
      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toBe('1');
      expect(res.body).toMatchObject({ code: 'AUTH.KEYS_UNAVAILABLE' });
      expect(elapsed).toBeLessThan(JWKS_TIMEOUT_MS + 1500);
    } finally {
      await fresh.close();
      answering = true;
    }
  });
});
