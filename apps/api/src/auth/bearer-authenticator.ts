import { createSecretKey, type KeyObject } from 'node:crypto';
import { errors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { bearerToken, matchesSecret, secretDigest } from '../common/admin-token.guard';
import { InvalidTokenError } from './auth.errors';
import { JwksKeys } from './jwks-keys';
import { ADMIN, ANONYMOUS, type Principal } from './principal';

/** Options of {@link BearerAuthenticator}, from AUTH_* and ADMIN_TOKEN (see the configuration table in docs/operations.md). */
export interface BearerAuthenticatorOptions {
  adminToken?: string;
  /** HS256 key of user tokens. */
  jwtSecret?: string;
  /** JWKS URL of the provider signing user tokens with an asymmetric algorithm. */
  jwksUrl?: string;
  issuer?: string;
  audience?: string;
  jwksTimeoutMs?: number;
  now?: () => number;
  fetch?: typeof globalThis.fetch;
}

/** Algorithms accepted from a JWKS: asymmetric only, so a public key can never serve as an HMAC secret. */
const JWKS_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

/** Clock skew allowed on `exp` and `nbf`, in seconds. */
export const CLOCK_TOLERANCE_SECONDS = 5;

/**
 * Turns an `Authorization` header into a {@link Principal}. It reads the header's value
 * only, so it works the same under any HTTP adapter. `Bearer <ADMIN_TOKEN>` (compared in
 * constant time) is the admin; with user auth on (a JWT secret or JWKS URL), any other
 * bearer token must be a valid JWT (signature, `exp`, `sub`, and `iss`/`aud` when
 * configured) or the request fails with {@link InvalidTokenError}. With user auth off, other
 * credentials are ignored, as before this existed.
 */
export class BearerAuthenticator {
  /** Whether user tokens are verified at all (AUTH_JWT_SECRET or AUTH_JWKS_URL set). */
  readonly userAuth: boolean;
  private readonly key?: KeyObject | JWTVerifyGetKey;
  private readonly algorithms: string[];
  private readonly adminDigest?: Buffer;

  constructor(private readonly options: BearerAuthenticatorOptions) {
    if (options.jwtSecret && options.jwksUrl) throw new Error('Give a JWT secret or a JWKS URL, not both');
    if (options.adminToken) this.adminDigest = secretDigest(options.adminToken);
    // A KeyObject once, rather than raw bytes jose would turn into one on every verification.
    if (options.jwtSecret) this.key = createSecretKey(Buffer.from(options.jwtSecret, 'utf8'));
    if (options.jwksUrl) {
      const { now, fetch } = options;
      this.key = new JwksKeys(new URL(options.jwksUrl), { timeoutMs: options.jwksTimeoutMs ?? 3000, now, fetch }).resolve;
    }
    this.algorithms = options.jwtSecret ? ['HS256'] : JWKS_ALGORITHMS;
    this.userAuth = this.key !== undefined;
  }

  /** The request's principal; throws InvalidTokenError (401) or KeysUnavailableError (503). */
  async authenticate(authorization: string | undefined): Promise<Principal> {
    if (authorization === undefined || authorization.trim() === '') return ANONYMOUS;
    const token = bearerToken(authorization);
    if (token && this.isAdminToken(token)) return ADMIN;
    if (!this.userAuth) return ANONYMOUS;
    if (!token) throw new InvalidTokenError('send Authorization: Bearer <token>');
    return { kind: 'user', userId: await this.verify(token) };
  }

  /** Whether `token` is the ADMIN_TOKEN; compares digests, so the time taken does not depend on where they differ or on length. */
  isAdminToken(token: string): boolean {
    return this.adminDigest !== undefined && matchesSecret(token, this.adminDigest);
  }

  private async verify(token: string): Promise<string> {
    const { issuer, audience, now } = this.options;
    try {
      const { payload } = await jwtVerify(token, this.key as JWTVerifyGetKey, {
        algorithms: this.algorithms,
        issuer,
        audience,
        requiredClaims: ['sub', 'exp'],
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        currentDate: now ? new Date(now()) : undefined,
      });
      if (typeof payload.sub !== 'string' || payload.sub === '') throw new InvalidTokenError('"sub" must be a non-empty string');
      return payload.sub;
    } catch (error) {
      throw asTokenError(error);
    }
  }
}

/** jose's verdicts as InvalidTokenError with a short reason; anything else (KeysUnavailableError, bugs) passes through. */
function asTokenError(error: unknown): unknown {
  if (error instanceof errors.JWTExpired) return new InvalidTokenError('it has expired', { cause: error });
  if (error instanceof errors.JWTClaimValidationFailed)
    return new InvalidTokenError(`claim "${error.claim}": ${error.reason}`, { cause: error });
  if (error instanceof errors.JOSEAlgNotAllowed) return new InvalidTokenError('its algorithm is not accepted', { cause: error });
  if (error instanceof errors.JWSSignatureVerificationFailed)
    return new InvalidTokenError('the signature does not verify', { cause: error });
  if (error instanceof errors.JWKSNoMatchingKey) return new InvalidTokenError('no known key matches it', { cause: error });
  if (error instanceof errors.JOSEError || error instanceof TypeError) return new InvalidTokenError('it is malformed', { cause: error });
  return error;
}
