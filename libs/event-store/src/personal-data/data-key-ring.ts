import type { Queryable } from '../postgres/queryable';
import { newDataKey, unwrapKey, wrapKey } from './field-cipher';
import { PersonalDataErasedError } from './personal-data-errors';
import type { PersonalDataKeys, StoredKey } from './personal-data-keys';

/** A subject's key as a reader finds it. */
export type KeyState = { key: Buffer } | { erased: true } | { missing: string };

/** Most unwrapped keys one instance keeps in memory; past it the cache starts over. */
export const MAX_CACHED_KEYS = 10_000;

/** Keys read from one statement, with the erasure generation that statement saw. */
type Loaded = { generation: string; keys: StoredKey[] };

/**
 * The data keys of one store, unwrapped and cached in memory. The promise: **a read that
 * starts after an erasure committed (on any instance) never uses the erased key.** Every
 * read asks the database for the erasure generation (the highest tombstone number) in the
 * same statement that loads the keys it lacks; a newer generation empties the cache, and keys
 * are cached only from a statement that saw the newest generation this instance knows (an
 * older statement answering late is used for its own read, never cached). Writes use a cached
 * key without asking: a key erased meanwhile only encrypts data nobody can read any more,
 * which is what the erasure asked for.
 */
export class DataKeyRing {
  private readonly cache = new Map<string, Buffer | null>();
  private generation = -1n;

  constructor(
    private readonly db: Queryable,
    private readonly keys: PersonalDataKeys,
    private readonly master: Buffer,
  ) {}

  /** The keys of `subjects` for reading: one round trip, or two when the cache was emptied meanwhile. */
  async forReading(subjects: Iterable<string>): Promise<Map<string, KeyState>> {
    const wanted = [...new Set(subjects)];
    const states = new Map<string, KeyState>();
    this.take(
      await this.keys.load(
        this.db,
        wanted.filter((s) => !this.cache.has(s)),
      ),
      states,
    );
    const lacking: string[] = [];
    for (const subject of wanted) {
      if (states.has(subject)) continue;
      const cached = this.cache.get(subject);
      if (cached === undefined)
        lacking.push(subject); // emptied by a newer generation while this read waited
      else states.set(subject, cached ? { key: cached } : { erased: true });
    }
    if (lacking.length) this.take(await this.keys.load(this.db, lacking), states);
    return states;
  }

  /**
   * The keys of `subjects` for writing, made for those that have none. An erased subject
   * throws, or with `erased: 'shred'` gets a throwaway key that is never stored, so what
   * is sealed with it reads as erased (an import of plaintext history of an erased person).
   * @throws PersonalDataErasedError for a subject with a tombstone
   */
  async forWriting(subjects: Iterable<string>, erased: 'throw' | 'shred' = 'throw'): Promise<Map<string, Buffer>> {
    const keys = new Map<string, Buffer>();
    const uncached: string[] = [];
    for (const subject of new Set(subjects)) {
      const cached = this.cache.get(subject);
      if (cached === null && erased === 'throw') throw new PersonalDataErasedError(subject);
      if (cached === null) keys.set(subject, newDataKey());
      else if (cached) keys.set(subject, cached);
      else uncached.push(subject);
    }
    if (!uncached.length) return keys;
    const states = new Map<string, KeyState>();
    const offered = uncached.map((subject) => ({ subject, wrapped: wrapKey(this.master, newDataKey(), subject) }));
    const created = await this.keys.create(this.db, offered);
    // A key another transaction was inserting at that moment is not visible to the statement: load it.
    const raced = created.keys.filter((k) => !k.wrapped && !k.erased).map((k) => k.subject);
    this.take({ ...created, keys: created.keys.filter((k) => k.wrapped || k.erased) }, states);
    if (raced.length) this.take(await this.keys.load(this.db, raced), states);
    for (const [subject, state] of states) {
      if ('erased' in state && erased === 'throw') throw new PersonalDataErasedError(subject);
      if ('erased' in state) keys.set(subject, newDataKey());
      else if ('missing' in state) throw new Error(`no data key could be made for "${subject}": ${state.missing}`);
      else keys.set(subject, state.key);
    }
    return keys;
  }

  /** Records what one statement found into `states`; caches it only if no newer erasure is known. */
  private take({ generation, keys }: Loaded, states: Map<string, KeyState>): void {
    const seen = BigInt(generation);
    if (seen > this.generation) {
      this.cache.clear();
      this.generation = seen;
    }
    const cacheable = seen === this.generation;
    for (const stored of keys) states.set(stored.subject, this.stateOf(stored, cacheable));
  }

  /** The state of a stored key, cached when it is final (a key, or an erasure) and `cacheable`. */
  private stateOf(stored: StoredKey, cacheable: boolean): KeyState {
    if (stored.erased) {
      if (cacheable) this.put(stored.subject, null);
      return { erased: true };
    }
    if (!stored.wrapped) return { missing: 'no data key and no erasure' };
    let key: Buffer;
    try {
      key = unwrapKey(this.master, stored.wrapped, stored.subject);
    } catch {
      return { missing: 'the data key does not unwrap with this master key' };
    }
    if (cacheable) this.put(stored.subject, key);
    return { key };
  }

  private put(subject: string, key: Buffer | null): void {
    if (this.cache.size >= MAX_CACHED_KEYS) this.cache.clear();
    this.cache.set(subject, key);
  }
}
