import fc from 'fast-check';
import { SignJWT, UnsecuredJWT, base64url } from 'jose';
import { InvalidTokenError } from './auth.errors';
import { BearerAuthenticator, CLOCK_TOLERANCE_SECONDS } from './bearer-authenticator';

const SECRET = 'a-test-secret-of-at-least-32-characters!';
const ADMIN_TOKEN = 'admin-token-0123456789';
const USER_ID = '6f1c1c57-53b8-4f43-9d5b-8b6a5e0f3a10';
const NOW = Date.UTC(2026, 11, 7, 17, 0, 0);

/** An HS256 token; `exp` one hour after NOW unless given. */
function hs256(claims: Record<string, unknown> = {}, secret = SECRET): Promise<string> {
  return new SignJWT({ sub: USER_ID, exp: NOW / 1000 + 3600, ...claims })
    .setProtectedHeader({ alg: 'HS256' })
    .sign(new TextEncoder().encode(secret));
}

function authenticator(options: Partial<ConstructorParameters<typeof BearerAuthenticator>[0]> = {}) {
  return new BearerAuthenticator({ adminToken: ADMIN_TOKEN, jwtSecret: SECRET, now: () => NOW, ...options });
}

async function refusal(auth: BearerAuthenticator, header: string): Promise<InvalidTokenError> {
  const error = await auth.authenticate(header).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InvalidTokenError);
  return error as InvalidTokenError;
}

describe('BearerAuthenticator', () => {
  it('makes a valid HS256 token its sub, and the ADMIN_TOKEN the admin', async () => {
    const auth = authenticator();
    await expect(auth.authenticate(`Bearer ${await hs256()}`)).resolves.toEqual({ kind: 'user', userId: USER_ID });
    await expect(auth.authenticate(`bearer   ${ADMIN_TOKEN}`)).resolves.toEqual({ kind: 'admin' });
    await expect(auth.authenticate(undefined)).resolves.toEqual({ kind: 'anonymous' });
    await expect(auth.authenticate('')).resolves.toEqual({ kind: 'anonymous' });
  });

  it('refuses an expired token, but allows the stated clock skew', async () => {
    const auth = authenticator();
    const expired = await refusal(auth, `Bearer ${await hs256({ exp: NOW / 1000 - CLOCK_TOLERANCE_SECONDS - 1 })}`);
    expect(expired.message).toMatch(/expired/);
    expect(expired.code).toBe('AUTH.INVALID_TOKEN');
    await expect(auth.authenticate(`Bearer ${await hs256({ exp: NOW / 1000 - CLOCK_TOLERANCE_SECONDS + 1 })}`)).resolves.toMatchObject({
      kind: 'user',
    });
  });

  it('refuses a token not yet valid (nbf)', async () => {
    await refusal(authenticator(), `Bearer ${await hs256({ nbf: NOW / 1000 + 60 })}`);
  });

  it('refuses a token signed with another secret', async () => {
    const error = await refusal(authenticator(), `Bearer ${await hs256({}, 'another-secret-of-at-least-32-characters')}`);
    expect(error.message).toMatch(/signature/);
  });

  it('refuses alg none, with or without a signature part', async () => {
    const unsecured = new UnsecuredJWT({ sub: USER_ID, exp: NOW / 1000 + 3600 }).encode();
    await refusal(authenticator(), `Bearer ${unsecured}`);
    const payload = (await hs256()).split('.')[1];
    const none = base64url.encode(JSON.stringify({ alg: 'none', typ: 'JWT' }));
    await refusal(authenticator(), `Bearer ${none}.${payload}.`);
  });

  it('refuses other algorithms than HS256 with a secret', async () => {
    const hs512 = await new SignJWT({ sub: USER_ID, exp: NOW / 1000 + 3600 })
      .setProtectedHeader({ alg: 'HS512' })
      .sign(new TextEncoder().encode(SECRET.repeat(2)));
    expect((await refusal(authenticator(), `Bearer ${hs512}`)).message).toMatch(/algorithm/);
  });

  it('requires sub and exp', async () => {
    await refusal(authenticator(), `Bearer ${await hs256({ sub: undefined })}`);
    await refusal(authenticator(), `Bearer ${await hs256({ sub: '' })}`);
    await refusal(authenticator(), `Bearer ${await hs256({ exp: undefined })}`);
  });

  it('checks iss and aud when configured', async () => {
    const auth = authenticator({ issuer: 'https://id.example', audience: 'users-api' });
    await expect(auth.authenticate(`Bearer ${await hs256({ iss: 'https://id.example', aud: ['users-api', 'x'] })}`)).resolves.toMatchObject(
      {
        kind: 'user',
      },
    );
    expect((await refusal(auth, `Bearer ${await hs256({ iss: 'https://evil.example', aud: 'users-api' })}`)).message).toMatch(/iss/);
    expect((await refusal(auth, `Bearer ${await hs256({ iss: 'https://id.example', aud: 'other' })}`)).message).toMatch(/aud/);
    await refusal(auth, `Bearer ${await hs256()}`);
  });

  it.each([
    ['another scheme', 'Basic dXNlcjpwYXNz'],
    ['no token', 'Bearer'],
    ['two tokens', 'Bearer a b'],
    ['not a JWT', 'Bearer not-a-jwt'],
    ['three garbage parts', 'Bearer a.b.c'],
    ['5000 characters', `Bearer ${'x'.repeat(5000)}`],
  ])('refuses %s as an invalid token when user auth is on', async (_, header) => {
    await refusal(authenticator(), header);
  });

  it('answers any Authorization header with a principal or InvalidTokenError, never another error (fast-check, 500 runs)', async () => {
    const auth = authenticator();
    const json = fc.oneof(
      fc.jsonValue(),
      fc.dictionary(fc.constantFrom('alg', 'typ', 'kid', 'crit', 'b64', 'sub', 'exp', 'nbf', 'iss', 'aud'), fc.jsonValue()),
    );
    const part = fc.oneof(
      json.map((value) => base64url.encode(JSON.stringify(value))),
      fc.string(),
      fc.base64String(),
    );
    const jwtLike = fc.tuple(part, part, part).map((parts) => parts.join('.'));
    const header = fc.oneof(
      fc.string(),
      jwtLike.map((token) => `Bearer ${token}`),
      fc.string().map((token) => `Bearer ${token}`),
    );
    await fc.assert(
      fc.asyncProperty(header, async (authorization) => {
        const outcome = await auth.authenticate(authorization).then(
          (principal) => principal,
          (error: unknown) => error,
        );
        expect(
          outcome instanceof InvalidTokenError || ['anonymous', 'admin', 'user'].includes((outcome as { kind?: string }).kind ?? ''),
        ).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('ignores other credentials when user auth is off, as before it existed', async () => {
    const auth = authenticator({ jwtSecret: undefined });
    expect(auth.userAuth).toBe(false);
    await expect(auth.authenticate(`Bearer ${await hs256()}`)).resolves.toEqual({ kind: 'anonymous' });
    await expect(auth.authenticate('Basic dXNlcjpwYXNz')).resolves.toEqual({ kind: 'anonymous' });
    await expect(auth.authenticate(`Bearer ${ADMIN_TOKEN}`)).resolves.toEqual({ kind: 'admin' });
  });

  it('never takes a prefix or extension of the ADMIN_TOKEN for it', () => {
    const auth = authenticator();
    expect(auth.isAdminToken(ADMIN_TOKEN)).toBe(true);
    for (const wrong of [ADMIN_TOKEN.slice(0, -1), `${ADMIN_TOKEN}x`, '', ADMIN_TOKEN.toUpperCase()])
      expect(auth.isAdminToken(wrong)).toBe(false);
    expect(authenticator({ adminToken: undefined }).isAdminToken('')).toBe(false);
  });

  it('refuses a secret and a JWKS URL together', () => {
    expect(() => authenticator({ jwksUrl: 'https://id.example/jwks.json' })).toThrow(/not both/);
  });
});
