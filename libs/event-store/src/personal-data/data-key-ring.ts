import type { Queryable } from '../postgres/queryable';
import { newDataKey, unwrapKey, wrapKey } from './field-cipher';
import { PersonalDataErasedError } from './personal-data-errors';
import type { PersonalDataKeys, StoredKey } from './personal-data-keys';

/** A subject's key as a reader finds it. */
export type KeyState = { key: Buffer } | { erased: true } | { missing: string };

/** Most unwrapped keys one instance keeps in memory; past it the cache starts over. */
export const MAX_CACHED_KEYS = 10_000;

/**
 * The data keys of one store, unwrapped and cached in memory. The promise: **a read that
 * starts after an erasure committed (on any instance) never uses the erased key.** Every
 * read asks the database for the erasure generation (the highest tombstone number) in the
 * same statement that loads the keys it lacks; a generation it has not seen empties the
 * cache first. Writes use a cached key without that check: a key erased meanwhile only
 * encrypts data nobody can read any more, which is what the erasure asked for.
 */
export class DataKeyRing {
  private readonly cache = new Map<string, Buffer | null>();
  private generation: string | undefined;

  constructor(
    private readonly db: Queryable,
    private readonly keys: PersonalDataKeys,
    private readonly master: Buffer,
  ) {}

  /** The keys of `subjects` for reading (one round trip; two when another instance erased someone). */
  async forReading(subjects: Iterable<string>): Promise<Map<string, KeyState>> {
    const wanted = [...new Set(subjects)];
    const uncached = wanted.filter((s) => !this.cache.has(s));
    const first = await this.keys.load(this.db, uncached);
    let loaded = first.keys;
    if (first.generation !== this.generation) {
      this.cache.clear();
      this.generation = first.generation;
      const rest = wanted.filter((s) => !uncached.includes(s));
      if (rest.length) loaded = loaded.concat((await this.keys.load(this.db, rest)).keys);
    }
    const states = new Map<string, KeyState>();
    for (const stored of loaded) states.set(stored.subject, this.remember(stored));
    for (const subject of wanted) {
      const cached = this.cache.get(subject);
      if (!states.has(subject) && cached !== undefined) states.set(subject, cached ? { key: cached } : { erased: true });
    }
    return states;
  }

  /**
   * The keys of `subjects` for writing, made for those that have none. An erased subject
   * throws, or with `erased: 'shred'` gets a throwaway key that is never stored, so what
   * is sealed with it reads as erased (an import of plaintext history of an erased person).
   * @throws PersonalDataErasedError for a subject with a tombstone
   */
  async forWriting(subjects: Iterable<string>, erased: 'throw' | 'shred' = 'throw'): Promise<Map<string, Buffer>> {
    const wanted = [...new Set(subjects)];
    const keys = new Map<string, Buffer>();
    const uncached: string[] = [];
    for (const subject of wanted) {
      const cached = this.cache.get(subject);
      if (cached === null && erased === 'throw') throw new PersonalDataErasedError(subject);
      if (cached === null) keys.set(subject, newDataKey());
      else if (cached) keys.set(subject, cached);
      else uncached.push(subject);
    }
    if (!uncached.length) return keys;
    const offered = uncached.map((subject) => ({ subject, wrapped: wrapKey(this.master, newDataKey(), subject) }));
    let stored = await this.keys.create(this.db, offered);
    const raced = stored.filter((k) => !k.wrapped && !k.erased).map((k) => k.subject);
    if (raced.length) stored = stored.filter((k) => k.wrapped || k.erased).concat((await this.keys.load(this.db, raced)).keys);
    for (const k of stored) {
      const state = this.remember(k);
      if ('erased' in state && erased === 'throw') throw new PersonalDataErasedError(k.subject);
      if ('erased' in state) keys.set(k.subject, newDataKey());
      else if ('missing' in state) throw new Error(`no data key could be made for "${k.subject}": ${state.missing}`);
      else keys.set(k.subject, state.key);
    }
    return keys;
  }

  /** The state of a stored key, cached when it is final (a key, or an erasure). */
  private remember(stored: StoredKey): KeyState {
    if (stored.erased) {
      this.put(stored.subject, null);
      return { erased: true };
    }
    if (!stored.wrapped) return { missing: 'no data key and no erasure' };
    let key: Buffer;
    try {
      key = unwrapKey(this.master, stored.wrapped, stored.subject);
    } catch {
      return { missing: 'the data key does not unwrap with this master key' };
    }
    this.put(stored.subject, key);
    return { key };
  }

  private put(subject: string, key: Buffer | null): void {
    if (this.cache.size >= MAX_CACHED_KEYS) this.cache.clear();
    this.cache.set(subject, key);
  }
}
