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
    const names = Object.keys(inputs);
    return CacheKey.shape(namespacePart, names).key(names.map((name) => inputs[name]));
  }

  /**
   * A key builder for one query shape (a namespace part and input names), for hot paths that
   * build many keys of the same shape: the namespace part and the names are encoded and
   * sorted once, so a key costs only its values' encoding. `shape(p, names).key(values)`
   * equals `of(p, { [names[i]]: values[i] })`.
   */
  static shape(namespacePart: string, names: readonly string[]): KeyShape {
    if (!namespacePart || !namespacePart.trim()) {
      throw new CacheKeyError('A cache key needs a non-empty namespace part');
    }
    const part = encode(namespacePart.trim());
    const order = names
      .map((name, index) => ({ name, index, encodedName: encode(name) }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const fixed = names.length === 0 ? new CacheKey(bounded(part, part)) : undefined;
    return {
      key(values) {
        if (fixed) return fixed;
        let id = part;
        let separator = '?';
        for (const { name, index, encodedName } of order) {
          const value = values[index];
          if (value === undefined) continue;
          id += `${separator}${encodedName}=${encode(normaliseInput(name, value))}`;
          separator = '&';
        }
        return new CacheKey(bounded(id, part));
      },
    };
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

/** Builds keys of one shape; see {@link CacheKey.shape}. */
export interface KeyShape {
  /** The key of these values, in the order of the shape's names; undefined values are dropped. */
  key(values: readonly CacheKeyInput[]): CacheKey;
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
