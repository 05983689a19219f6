import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { timingSafeEqual, createHash } from 'node:crypto';
import { AppConfig } from '../config/app-config';
import type { HttpRequest } from './http-message';
import { RequestError } from './problem';

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** The token of `Authorization: Bearer <token>`; undefined for anything else. */
export function bearerToken(authorization: string | undefined): string | undefined {
  return BEARER.exec(authorization ?? '')?.[1];
}

/** A secret's SHA-256 digest: secrets are compared digest to digest (see {@link matchesSecret}). */
export function secretDigest(secret: string): Buffer {
  return createHash('sha256').update(secret).digest();
}

/** Whether `token` is the secret `expected` digests: the time taken depends neither on their lengths nor on where they differ. */
export function matchesSecret(token: string, expected: Buffer): boolean {
  return timingSafeEqual(secretDigest(token), expected);
}

/**
 * Checks `Authorization: Bearer <ADMIN_TOKEN>`: 401 without a token, 403 with a wrong
 * one, 403 for everyone when ADMIN_TOKEN is unset. Throws a RequestError; returns when allowed.
 */
export function checkAdminToken(authorization: string | undefined, expected: string | undefined): void {
  if (!expected) {
    throw new RequestError('ADMIN.DISABLED', 403, 'The admin API is disabled; set ADMIN_TOKEN to enable it');
  }
  const token = bearerToken(authorization);
  if (!token) throw new RequestError('ADMIN.UNAUTHENTICATED', 401, 'Send Authorization: Bearer <ADMIN_TOKEN>');
  if (!matchesSecret(token, secretDigest(expected))) {
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
