import { applyDecorators, CanActivate, createParamDecorator, ExecutionContext, Injectable, SetMetadata, UseGuards } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiBearerAuth, ApiResponse } from '@nestjs/swagger';
import { checkAdminToken } from '../common/admin-token.guard';
import { ForbiddenError, UnauthenticatedError } from './auth.errors';
import { Authenticator } from './authenticator';
import { isSelfOrAdmin, type Principal } from './principal';

/**
 * Who may call a route when user auth is on:
 * - `anyone`: every caller, but a bearer token sent must be valid (the route reads the principal);
 * - `self-or-admin`: the user whose id is the route parameter (`param`, default `id`), or an admin;
 * - `admin`: the ADMIN_TOKEN only.
 */
export type AuthRule = 'anyone' | 'self-or-admin' | 'admin';

/** Options of {@link Authorize}. */
export interface AuthorizeOptions {
  /** The route parameter that holds the user id `self-or-admin` compares with `sub`. Default `id`. */
  param?: string;
  /**
   * With user auth off (no AUTH_JWT_SECRET or AUTH_JWKS_URL): `open` lets everyone through,
   * as before user auth existed (default); `admin` requires the ADMIN_TOKEN, answering as
   * the admin API does (401 without a token, 403 with a wrong one or when ADMIN_TOKEN is unset).
   */
  whenUserAuthOff?: 'open' | 'admin';
}

const AUTHORIZE = 'auth:authorize';
/** Where the guard leaves the principal on the request object (either adapter's). */
const PRINCIPAL = Symbol('auth:principal');

type AuthorizedRequest = { headers: Record<string, string | string[] | undefined>; params?: Record<string, string> } & {
  [PRINCIPAL]?: Principal;
};

/**
 * Declares who may call a route (see {@link AuthRule}) and documents the bearer scheme
 * and its 401/403 in OpenAPI. The route may take the caller with `@CurrentPrincipal()`.
 * Invalid or expired tokens answer 401 `AUTH.INVALID_TOKEN`, no token where one is needed
 * 401 `AUTH.UNAUTHENTICATED` (both with `WWW-Authenticate: Bearer`), a caller without the
 * right 403 `AUTH.FORBIDDEN`. Guards run before interceptors, so a refused request never
 * claims an Idempotency-Key.
 *
 * @example `@Delete(':id') @Authorize('self-or-admin', { whenUserAuthOff: 'admin' })`
 */
export function Authorize(rule: AuthRule, options: AuthorizeOptions = {}): MethodDecorator {
  const refusals =
    rule === 'anyone'
      ? []
      : [ApiResponse({ status: 403, description: `AUTH.FORBIDDEN: only ${rule === 'admin' ? 'an admin' : 'that user or an admin'}` })];
  return applyDecorators(
    SetMetadata(AUTHORIZE, { rule, ...options }),
    UseGuards(AuthorizeGuard),
    ApiBearerAuth(),
    ApiResponse({ status: 401, description: 'AUTH.INVALID_TOKEN or AUTH.UNAUTHENTICATED (header WWW-Authenticate: Bearer)' }),
    ...refusals,
  );
}

/** The caller of a route that has `@Authorize` (anonymous, admin, or a user). */
export const CurrentPrincipal = createParamDecorator((_: unknown, context: ExecutionContext): Principal => {
  const principal = context.switchToHttp().getRequest<AuthorizedRequest>()[PRINCIPAL];
  if (!principal) throw new Error('@CurrentPrincipal() needs @Authorize(...) on the route');
  return principal;
});

/** Enforces {@link Authorize}; reads only the request's headers and route parameters, so it is adapter-neutral. */
@Injectable()
export class AuthorizeGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly authenticator: Authenticator,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const {
      rule,
      param = 'id',
      whenUserAuthOff = 'open',
    } = this.reflector.get<AuthorizeOptions & { rule: AuthRule }>(AUTHORIZE, context.getHandler());
    const request = context.switchToHttp().getRequest<AuthorizedRequest>();
    const header = request.headers.authorization;
    const authorization = Array.isArray(header) ? header[0] : header;
    if (!this.authenticator.userAuth && whenUserAuthOff === 'admin' && rule !== 'anyone') {
      checkAdminToken(authorization, this.authenticator.adminToken);
    }
    const principal = await this.authenticator.authenticate(authorization);
    request[PRINCIPAL] = principal;
    if (!this.authenticator.userAuth || rule === 'anyone' || principal.kind === 'admin') return true;
    if (principal.kind === 'anonymous') throw new UnauthenticatedError();
    if (rule === 'self-or-admin' && isSelfOrAdmin(principal, request.params?.[param] ?? '')) return true;
    throw new ForbiddenError(rule === 'admin' ? 'this needs the admin token' : "another user's data");
  }
}
