import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type KeyLike } from 'jose';
import { InvalidTokenError, KeysUnavailableError } from './auth.errors';
import { BearerAuthenticator } from './bearer-authenticator';

const USER_ID = '0b3c9d2e-6a51-4a8e-9f0e-2f4f0c1d7e11';
const TIMEOUT_MS = 300;
const COOLDOWN_MS = 30_000;

/** How the test JWKS server answers: the key set, or a fault. */
type Mode = 'serve' | 'hang' | 'stall-body' | 'error' | 'not-json';

interface SigningKey {
  kid: string;
  alg: string;
  privateKey: KeyLike;
  jwk: Record<string, unknown>;
}

async function signingKey(kid: string, alg: 'RS256' | 'ES256' = 'RS256'): Promise<SigningKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg);
  return { kid, alg, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

describe('user tokens verified with keys from a JWKS URL (a local HTTP server)', () => {
  let server: Server;
  let url: string;
  let mode: Mode;
  let published: SigningKey[];
  let requests: number;
  const held: ServerResponse[] = [];
  let now: number;
  let k1: SigningKey;
  let k2: SigningKey;

  beforeAll(async () => {
    [k1, k2] = await Promise.all([signingKey('k1'), signingKey('k2', 'ES256')]);
    server = createServer((_, res) => {
      requests++;
      if (mode === 'hang') return void held.push(res);
      if (mode === 'error') return void res.writeHead(500).end('oops');
      res.writeHead(200, { 'content-type': 'application/json' });
      if (mode === 'not-json') return void res.end('<html>');
      const body = JSON.stringify({ keys: published.map((k) => k.jwk) });
      if (mode === 'stall-body') return void (res.write(body.slice(0, 10)), held.push(res));
      res.end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
  });

  afterAll(async () => {
    for (const res of held) res.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  beforeEach(() => {
    mode = 'serve';
    published = [k1];
    requests = 0;
    now = Date.UTC(2026, 11, 7, 17, 0, 0);
  });

  const authenticator = () => new BearerAuthenticator({ jwksUrl: url, jwksTimeoutMs: TIMEOUT_MS, now: () => now });
  const token = (key: SigningKey, claims: Record<string, unknown> = {}) =>
    new SignJWT({ sub: USER_ID, exp: now / 1000 + 3600, ...claims })
      .setProtectedHeader({ alg: key.alg, kid: key.kid })
      .sign(key.privateKey);
  const bearer = async (key: SigningKey, claims?: Record<string, unknown>) => `Bearer ${await token(key, claims)}`;
  const outcome = (promise: Promise<unknown>) =>
    promise.then(
      (value) => value,
      (error: unknown) => error,
    );

  it('verifies a token signed by a published key, fetching the set once for 20 concurrent requests', async () => {
    const auth = authenticator();
    const header = await bearer(k1);
    const principals = await Promise.all(Array.from({ length: 20 }, () => auth.authenticate(header)));
    expect(principals).toEqual(Array.from({ length: 20 }, () => ({ kind: 'user', userId: USER_ID })));
    expect(requests).toBe(1);
  });

  it('refuses an expired token and a token signed by an unpublished key', async () => {
    const auth = authenticator();
    expect(await outcome(auth.authenticate(await bearer(k1, { exp: now / 1000 - 60 })))).toBeInstanceOf(InvalidTokenError);
    const stranger = await signingKey('k1');
    expect(await outcome(auth.authenticate(await bearer(stranger)))).toMatchObject({ code: 'AUTH.INVALID_TOKEN' });
  });

  it('refuses HS256 tokens, so a published public key can never serve as an HMAC secret', async () => {
    const auth = authenticator();
    const hs256 = await new SignJWT({ sub: USER_ID, exp: now / 1000 + 3600 })
      .setProtectedHeader({ alg: 'HS256', kid: 'k1' })
      .sign(new TextEncoder().encode(JSON.stringify(k1.jwk)));
    const error = await outcome(auth.authenticate(`Bearer ${hs256}`));
    expect(error).toBeInstanceOf(InvalidTokenError);
    expect((error as Error).message).toMatch(/algorithm/);
  });

  it('picks up a rotated key on an unknown kid, but refetches at most once per cooldown', async () => {
    const auth = authenticator();
    await auth.authenticate(await bearer(k1));
    published = [k1, k2];
    // Within the cooldown an unknown kid is just an invalid token: no fetch, so random kids cannot flood the provider.
    now += COOLDOWN_MS - 1000;
    expect(await outcome(auth.authenticate(await bearer(k2)))).toBeInstanceOf(InvalidTokenError);
    expect(requests).toBe(1);
    now += 1000;
    await expect(auth.authenticate(await bearer(k2))).resolves.toEqual({ kind: 'user', userId: USER_ID });
    expect(requests).toBe(2);
  });

  it.each([
    ['does not answer', 'hang'],
    ['stalls in the body', 'stall-body'],
  ] as const)('answers KeysUnavailableError within the timeout when the JWKS server %s', async (_, fault) => {
    mode = fault;
    const started = performance.now();
    const error = await outcome(authenticator().authenticate(await bearer(k1)));
    const elapsed = performance.now() - started;
    expect(error).toBeInstanceOf(KeysUnavailableError);
    expect((error as Error).message).toMatch(`no answer within ${TIMEOUT_MS} ms`);
    expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT_MS - 20);
    expect(elapsed).toBeLessThan(TIMEOUT_MS + 1000);
  });

  it.each([
    ['an error status', 'error'],
    ['something that is not JSON', 'not-json'],
  ] as const)('answers KeysUnavailableError when the JWKS server sends %s', async (_, fault) => {
    mode = fault;
    expect(await outcome(authenticator().authenticate(await bearer(k1)))).toMatchObject({ code: 'AUTH.KEYS_UNAVAILABLE' });
  });

  it('refuses a document that is not a key set', async () => {
    published = [];
    const auth = new BearerAuthenticator({
      jwksUrl: url,
      jwksTimeoutMs: TIMEOUT_MS,
      now: () => now,
      fetch: () => Promise.resolve(new Response(JSON.stringify({ keys: 'none' }), { status: 200 })),
    });
    expect(await outcome(auth.authenticate(await bearer(k1)))).toMatchObject({ code: 'AUTH.KEYS_UNAVAILABLE' });
  });

  it('keeps serving stale keys without waiting while the JWKS server is down, and refreshes once it is back', async () => {
    const auth = authenticator();
    await auth.authenticate(await bearer(k1));
    mode = 'hang';
    now += 11 * 60_000; // past the 10 min max age
    const backgroundFetch = new Promise<ServerResponse>((resolve) => server.once('request', (_, res: ServerResponse) => resolve(res)));
    const header = await bearer(k1);
    const started = performance.now();
    await expect(auth.authenticate(header)).resolves.toMatchObject({ kind: 'user' });
    expect(performance.now() - started).toBeLessThan(TIMEOUT_MS);
    const hung = await backgroundFetch;
    await new Promise((resolve) => hung.once('close', resolve)); // it timed out and hung up
    expect(requests).toBe(2);
    now += COOLDOWN_MS;
    mode = 'serve';
    published = [k2];
    await expect(auth.authenticate(await bearer(k1))).resolves.toMatchObject({ kind: 'user' }); // starts a refresh
    // A token with the new key joins that refresh instead of being refused within the cooldown.
    await expect(auth.authenticate(await bearer(k2))).resolves.toMatchObject({ kind: 'user' });
    expect(requests).toBe(3);
  });
});
