/**
 * What never reaches a log line: secrets (tokens, cookies, passwords in URLs) and personal data
 * (names, emails). Two layers: pino's `redact` censors these keys wherever a logged object carries
 * them (up to three levels deep), and {@link scrubText} masks them inside free text (messages,
 * error messages and stacks), where a key name cannot be matched.
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

const key = (k: string) => (/^[A-Za-z_$][\w$]*$/.test(k) ? `.${k}` : `["${k}"]`);

/** pino `redact` paths: each sensitive key at the top level and one or two levels down. */
export const REDACT_PATHS: string[] = SENSITIVE_KEYS.flatMap((k) => [key(k).replace(/^\./, ''), `*${key(k)}`, `*.*${key(k)}`]);

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
