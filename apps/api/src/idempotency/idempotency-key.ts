import { createHash } from 'node:crypto';
import { ifMatchToken } from '../common/if-match';
import { RequestError } from '../common/problem';

/** The request header (IETF HTTPAPI draft `Idempotency-Key`). */
export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';

/** Visible ASCII except `"` and `\`, 1-255 characters: fits an sf-string and any client's UUID or ULID. */
const KEY = /^[\x21\x23-\x5B\x5D-\x7E]{1,255}$/;

/**
 * Reads `Idempotency-Key`: absent -> undefined; `abc` or the draft's sf-string form
 * `"abc"` -> `abc`; anything else (empty, too long, spaces, control or non-ASCII
 * characters, the header sent twice) -> 400, never silently ignored.
 */
export function parseIdempotencyKey(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  const raw = Array.isArray(header) ? undefined : header.trim();
  const key = raw?.length && raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"') ? raw.slice(1, -1) : raw;
  if (key === undefined || !KEY.test(key)) {
    throw new RequestError(
      'REQUEST.INVALID_IDEMPOTENCY_KEY',
      400,
      'Idempotency-Key must be 1-255 visible ASCII characters without quotes or backslashes (optionally in double quotes), sent once',
    );
  }
  return key;
}

/** JSON with object keys sorted at every level: equal values give equal text whatever the key order or spacing. */
export function canonicalJson(value: unknown): string {
  return (
    JSON.stringify(value, (_key, v: unknown) => {
      if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }) ?? 'null'
  );
}

/** What makes two requests "the same request" for an idempotency key. */
export interface FingerprintInput {
  /** Method and route template, e.g. `POST /users/:id/points`. */
  scope: string;
  params: Record<string, unknown>;
  body: unknown;
  ifMatch: string | undefined;
}

/** SHA-256 over route template, path parameters, canonical body and the If-Match precondition. */
export function requestFingerprint(input: FingerprintInput): string {
  const text = canonicalJson([input.scope, input.params ?? {}, input.body ?? null, ifMatchToken(input.ifMatch) ?? null]);
  return createHash('sha256').update(text).digest('hex');
}
