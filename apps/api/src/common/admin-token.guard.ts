import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { timingSafeEqual, createHash } from 'node:crypto';
import { AppConfig } from '../config/app-config';
import type { HttpRequest } from './http-message';
import { RequestError } from './problem';

/**
 * Checks `Authorization: Bearer <ADMIN_TOKEN>`: 401 without a token, 403 with a wrong
 * one, 403 for everyone when ADMIN_TOKEN is unset. Throws a RequestError; returns when allowed.
 */
export function checkAdminToken(authorization: string | undefined, expected: string | undefined): void {
  if (!expected) {
    throw new RequestError('ADMIN.DISABLED', 403, 'The admin API is disabled; set ADMIN_TOKEN to enable it');
  }
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  if (!match) throw new RequestError('ADMIN.UNAUTHENTICATED', 401, 'Send Authorization: Bearer <ADMIN_TOKEN>');
  // Compare digests so the comparison takes the same time whatever the token's length.
  const digest = (s: string) => createHash('sha256').update(s).digest();
  if (!timingSafeEqual(digest(match[1]), digest(expected))) {
    throw new RequestError('ADMIN.FORBIDDEN', 403, 'The admin token is not valid');
  }
}

/** Admin endpoints need `Authorization: Bearer <ADMIN_TOKEN>` (see {@link checkAdminToken}). */
@Injectable()
export class AdminTokenGuard implements CanActivate {
  constructor(@Inject(AppConfig) private readonly config: AppConfig) {}

  canActivate(context: ExecutionContext): boolean {
    checkAdminToken(context.switchToHttp().getRequest<HttpRequest>().headers.authorization, this.config.ADMIN_TOKEN);
    return true;
  }
}
