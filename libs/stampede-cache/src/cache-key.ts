import { createHash } from 'node:crypto';
import { CacheKeyError } from './errors';

/** A value allowed as a key input; `undefined` inputs are dropped so `{a: undefined}` equals `{}`. */
export type CacheKeyInput = string | number | boolean | undefined;

/** Identities longer than this are hashed so Redis keys stay short and bounded. */
const MAX_ID_LENGTH = 200;
/** How much of the readable namespace part survives hashing, to keep keys greppable. */
const READABLE_PREFIX_LENGTH = 64;

/**
 * A normalised cache identity. Build one with {@link CacheKey.of} (namespace part plus
 * inputs) or {@link CacheKey.from} (an opaque string). The `id` only contains
 * URI-safe characters, so user text can never inject Redis key syntax such as `{`, `}`
 * (cluster hash tags) or `:` (namespace separators).
 */
export class CacheKey {
  private constructor(
    /** The encoded identity; stores prefix it with the module namespace. */
    readonly id: string,
  ) {}

  /**
   * Builds a key from a namespace part (e.g. `'leaderboard'`) and inputs. Inputs are
   * sorted by name, normalised (strings trimmed and NFC-normalised, numbers in canonical
   * form) and percent-encoded; the result is hashed when long.
   */
  static of(namespacePart: string, inputs: Record<string, CacheKeyInput> = {}): CacheKey {
    if (!namespacePart || !namespacePart.trim()) {
      throw new CacheKeyError('A cache key needs a non-empty namespace part');
    }
    const pairs = Object.keys(inputs)
      .filter((name) => inputs[name] !== undefined)
      .sort()
      .map((name) => `${encode(name)}=${encode(normaliseInput(name, inputs[name]))}`);
    const part = encode(namespacePart.trim());
    return new CacheKey(bounded(pairs.length ? `${part}?${pairs.join('&')}` : part, part));
  }

  /** Accepts an existing key unchanged, or encodes an opaque string into one. */
  static from(key: CacheKey | string): CacheKey {
    if (key instanceof CacheKey) return key;
    if (typeof key !== 'string' || key.length === 0) {
      throw new CacheKeyError('A cache key must be a non-empty string or a CacheKey');
    }
    const encoded = encode(key.normalize('NFC'));
    return new CacheKey(bounded(encoded, encoded));
  }

  toString(): string {
    return this.id;
  }
}

/**
 * Builds a {@link CacheKey}; the functional form of {@link CacheKey.of}, handy in
 * `@CachedQuery({ key: (q) => buildCacheKey('leaderboard', { window: q.window }) })`.
 */
export function buildCacheKey(namespacePart: string, inputs: Record<string, CacheKeyInput> = {}): CacheKey {
  return CacheKey.of(namespacePart, inputs);
}

function normaliseInput(name: string, value: CacheKeyInput): string {
  if (typeof value === 'string') return value.trim().normalize('NFC');
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number' && Number.isFinite(value)) return String(value); // String(-0) === '0'
  throw new CacheKeyError(`Cache key input "${name}" must be a string, boolean or finite number`);
}

/** encodeURIComponent leaves only [A-Za-z0-9-_.!~*'()%]: no braces, colons or spaces. */
function encode(text: string): string {
  return encodeURIComponent(text);
}

function bounded(id: string, readablePart: string): string {
  if (id.length <= MAX_ID_LENGTH) return id;
  const digest = createHash('sha256').update(id).digest('base64url');
  // Cut before a partial %XX escape so the readable prefix stays valid encoding.
  const prefix = readablePart.slice(0, READABLE_PREFIX_LENGTH).replace(/%[0-9A-F]?$/i, '');
  return `${prefix}#${digest}`;
}
