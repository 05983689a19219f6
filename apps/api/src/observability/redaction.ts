/**
 * What never reaches a log line: secrets (tokens, cookies, passwords in URLs) and personal data
 * (names, emails). Two layers: {@link redactObject} censors these keys wherever a logged object
 * carries them (up to three levels deep), and {@link scrubText} masks them inside free text
 * (messages, error messages and stacks), where a key name cannot be matched. (pino's own `redact`
 * with wildcard paths ran on every child logger pino-http creates, i.e. on every request.)
 */
const SENSITIVE_KEYS = [
  'authorization',
  'cookie',
  'set-cookie',
  'x-admin-token',
  'adminToken',
  'ADMIN_TOKEN',
  'password',
  'DATABASE_URL',
  'REDIS_URL',
  'NATS_URL',
  'email',
  'firstName',
  'lastName',
  'fullName',
  'body',
];

const SENSITIVE = new Set(SENSITIVE_KEYS.map((k) => k.toLowerCase()));
/** Deeper than this, a logged object is left as it is (log calls pass flat objects; a deep one is a bug to fix). */
const MAX_DEPTH = 3;

/**
 * `value` with every sensitive key's value (at any of the first three levels) replaced by
 * `[Redacted]`, and every string scrubbed with `scrub`. Copies only what it changes; runs only
 * for lines that are written (pino's `formatters.log`), never for filtered ones.
 */
export function redactObject<T>(value: T, scrub: (text: string) => string, depth = 0): T {
  if (typeof value === 'string') return scrub(value) as T;
  if (value === null || typeof value !== 'object' || depth >= MAX_DEPTH || value instanceof Error) return value;
  if (Array.isArray(value)) return value.map((v: unknown) => redactObject(v, scrub, depth + 1)) as T;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = SENSITIVE.has(k.toLowerCase()) ? '[Redacted]' : redactObject(v, scrub, depth + 1);
  return out as T;
}

const URL_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^:/?#\s@]*:)[^@/\s]+@/gi;
const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g;
const BEARER = /\b(Bearer\s+)[A-Za-z0-9._~+/=-]+/g;

/**
 * `text` with passwords in URLs, bearer tokens, email addresses and each of `secrets`
 * (e.g. the configured ADMIN_TOKEN) replaced by `[Redacted]`.
 */
export function scrubText(text: string, secrets: readonly string[] = []): string {
  let out = text.replace(URL_PASSWORD, '$1[Redacted]@').replace(BEARER, '$1[Redacted]').replace(EMAIL, '[Redacted]');
  for (const secret of secrets) if (secret) out = out.split(secret).join('[Redacted]');
  return out;
}
