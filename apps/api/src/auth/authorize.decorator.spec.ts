import type { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { SignJWT } from 'jose';
import { loadConfig } from '../config/app-config';
import { Authenticator } from './authenticator';
import { Authorize, AuthorizeGuard } from './authorize.decorator';

const SECRET = 'unit-test-secret-of-at-least-32-chars';
const ADMIN_TOKEN = 'unit-admin-token-0123';
const ADA = '1d7a0a4e-0c1f-4a3f-8f1e-3c2b1a0f9e8d';

/** Routes as a controller would declare them; the erasure route is the example of `whenUserAuthOff: 'admin'`. */
class Routes {
  @Authorize('anyone') read(): void {}
  @Authorize('self-or-admin') rename(): void {}
  @Authorize('admin') award(): void {}
  @Authorize('self-or-admin', { whenUserAuthOff: 'admin' }) erase(): void {}
  @Authorize('self-or-admin', { param: 'userId' }) byUserId(): void {}
}

type Route = keyof Routes;

function guard(env: Record<string, string>) {
  return new AuthorizeGuard(new Reflector(), new Authenticator(loadConfig({ ADMIN_TOKEN, ...env })));
}

/** Runs the guard for `route` with these headers and params; resolves with the outcome (true or the error's code). */
async function check(g: AuthorizeGuard, route: Route, authorization?: string, params: Record<string, string> = { id: ADA }) {
  const request = { headers: authorization ? { authorization } : {}, params };
  const context = {
    // The route method as Nest hands it to guards (metadata lives on the function itself).
    getHandler: () => Reflect.get(Routes.prototype, route),
    getClass: () => Routes,
    switchToHttp: () => ({ getRequest: () => request }),
  } as unknown as ExecutionContext;
  return g.canActivate(context).then(
    (allowed) => allowed,
    (error: { code?: string }) => error.code,
  );
}

const userToken = async (sub: string) =>
  `Bearer ${await new SignJWT({ sub, exp: Math.floor(Date.now() / 1000) + 600 }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(SECRET))}`;

describe('@Authorize and its guard', () => {
  describe('user auth on', () => {
    const on = guard({ AUTH_JWT_SECRET: SECRET });

    it.each([
      ['read', undefined, true],
      ['rename', undefined, 'AUTH.UNAUTHENTICATED'],
      ['award', undefined, 'AUTH.UNAUTHENTICATED'],
      ['erase', undefined, 'AUTH.UNAUTHENTICATED'],
      ['read', 'garbage', 'AUTH.INVALID_TOKEN'],
      ['rename', `Bearer ${ADMIN_TOKEN}`, true],
      ['award', `Bearer ${ADMIN_TOKEN}`, true],
      ['erase', `Bearer ${ADMIN_TOKEN}`, true],
    ] as const)('%s with %s: %s', async (route, authorization, outcome) => {
      expect(await check(on, route, authorization)).toBe(outcome);
    });

    it('lets the user named by the route parameter through, and no other user', async () => {
      const ada = await userToken(ADA);
      const other = await userToken('someone-else');
      expect(await check(on, 'rename', ada)).toBe(true);
      expect(await check(on, 'erase', ada)).toBe(true);
      expect(await check(on, 'read', other)).toBe(true);
      expect(await check(on, 'rename', other)).toBe('AUTH.FORBIDDEN');
      expect(await check(on, 'award', ada)).toBe('AUTH.FORBIDDEN');
      expect(await check(on, 'byUserId', ada, { userId: ADA })).toBe(true);
      expect(await check(on, 'byUserId', ada, { id: ADA })).toBe('AUTH.FORBIDDEN');
    });
  });

  describe('user auth off', () => {
    const off = guard({});

    it('keeps the open routes open, whatever the credentials', async () => {
      for (const route of ['read', 'rename', 'award'] as const) {
        for (const authorization of [undefined, 'garbage', 'Bearer wrong-token']) expect(await check(off, route, authorization)).toBe(true);
      }
    });

    it("answers whenUserAuthOff: 'admin' routes as the admin API does", async () => {
      expect(await check(off, 'erase')).toBe('ADMIN.UNAUTHENTICATED');
      expect(await check(off, 'erase', await userToken(ADA))).toBe('ADMIN.FORBIDDEN');
      expect(await check(off, 'erase', `Bearer ${ADMIN_TOKEN}`)).toBe(true);
      const noAdmin = new AuthorizeGuard(new Reflector(), new Authenticator(loadConfig({})));
      expect(await check(noAdmin, 'erase', `Bearer ${ADMIN_TOKEN}`)).toBe('ADMIN.DISABLED');
    });
  });
});
