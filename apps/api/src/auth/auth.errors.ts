/** Base of the auth errors: a stable `code`, no HTTP (statuses are in common/error-status.ts). */
export abstract class AuthError extends Error {
  abstract readonly code: string;
}

/** The route needs credentials and the request sent none. */
export class UnauthenticatedError extends AuthError {
  readonly code = 'AUTH.UNAUTHENTICATED';
  constructor() {
    super('Send Authorization: Bearer <token>');
  }
}

/** A bearer token was sent but is not valid: malformed, expired, wrongly signed, wrong issuer or audience. */
export class InvalidTokenError extends AuthError {
  readonly code = 'AUTH.INVALID_TOKEN';
  constructor(reason: string, options?: { cause?: unknown }) {
    super(`The bearer token is not valid: ${reason}`, options);
  }
}

/** A valid caller without the right to do this (another user's data, or an admin-only action). */
export class ForbiddenError extends AuthError {
  readonly code = 'AUTH.FORBIDDEN';
  constructor(what: string) {
    super(`Not allowed: ${what}`);
  }
}

/** The identity provider's keys (JWKS) could not be fetched in time; the token may well be valid. */
export class KeysUnavailableError extends AuthError {
  readonly code = 'AUTH.KEYS_UNAVAILABLE';
  constructor(reason: string, options?: { cause?: unknown }) {
    super(`The token signing keys could not be fetched: ${reason}`, options);
  }
}
