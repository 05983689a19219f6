import type { PersonalDataCipher } from '../personal-data/personal-data';
import type { PersonalFields } from '../personal-data/personal-fields';
import { EventStoreOptionsError } from '../errors';
import type { EventSourcedAggregate } from '../aggregate/event-sourced-aggregate';

/** What a codec is told about the snapshot it transforms (a cipher derives the person from `streamId`). */
export interface SnapshotContext {
  streamId: string;
  /** The definition's `name` (stored as `aggregate_type`). */
  name: string;
  /** The definition's `version` (stored as `schema_version`). */
  version: number;
  /** Stream version the state reflects. */
  streamVersion: number;
  /** The store's cipher for personal fields, when crypto-shredding is on (see {@link personalSnapshotCodec}). */
  personalData?: PersonalDataCipher;
}

/**
 * Transforms a snapshot's state on its way into the table and back: the hook where personal
 * fields are encrypted with the person's key, as in events. `encode` runs in the background
 * write, never on an append's path; a throw there skips the snapshot. A throw (or a rejected
 * promise) in `decode` is taken as "no snapshot": the aggregate is replayed in full.
 */
export interface SnapshotCodec<S = unknown> {
  encode(state: S, context: SnapshotContext): Record<string, unknown> | Promise<Record<string, unknown>>;
  decode(stored: Record<string, unknown>, context: SnapshotContext): S | Promise<S>;
}

/**
 * Encrypts the personal fields of a snapshot's state with its stream's (the person's) data key,
 * as the events' own fields are (AES-256-GCM, associated data = the snapshot's identity and the
 * field name), and decrypts them on load. Without a cipher in the context (crypto-shredding off)
 * the state is stored as it is. After an erasure the fields would read as erased markers, but no
 * snapshot survives one: the erasure deletes them and `notAfter` refuses writes in flight.
 */
export function personalSnapshotCodec<S extends object>(fields: PersonalFields): SnapshotCodec<S> {
  const recordId = (c: SnapshotContext) => `snapshot:${c.name}:v${c.version}@${c.streamVersion}`;
  return {
    encode: (state, c) => {
      const plain = { ...state } as Record<string, unknown>;
      return c.personalData ? c.personalData.encryptFields(c.streamId, recordId(c), plain, fields) : plain;
    },
    decode: async (stored, c) =>
      (c.personalData ? await c.personalData.decryptFields(c.streamId, recordId(c), stored, fields) : stored) as S,
  };
}

/** Stores the state as it is (the default codec). */
export const identityCodec: SnapshotCodec = {
  encode: (state) => state as Record<string, unknown>,
  decode: (stored) => stored,
};

/** An aggregate class (its constructor identifies which definition applies). */
export type AggregateClass<A extends EventSourcedAggregate> = abstract new (...args: never[]) => A;

/**
 * How one aggregate type is snapshotted. A snapshot is a cache of a replay: it may be missing,
 * old or of another shape, and the aggregate still loads right (from the events).
 */
export interface SnapshotDefinition<A extends EventSourcedAggregate = EventSourcedAggregate, S = unknown> {
  /** The aggregate class; only instances of exactly this class use the definition. */
  aggregate: AggregateClass<A>;
  /** Stable name stored with each snapshot (`aggregate_type`), e.g. `'User'`. */
  name: string;
  /**
   * Version of the state's shape (integer ≥ 1). Bump it whenever `take` or `restore` change, or
   * the aggregate gains state: snapshots of any other version are ignored (full replay, then a
   * new snapshot of the new version).
   */
  version: number;
  /**
   * Snapshot after a load that replayed at least this many events past the snapshot it started
   * from (integer ≥ 0; 0 = never, and then loads do not look for snapshots either).
   */
  every: number;
  /** The state to store, as JSON-compatible data. Called synchronously at the end of a load. */
  take(aggregate: A): S;
  /** Puts a taken state into a fresh aggregate (from the repository's `create`). */
  restore(aggregate: A, state: S): void;
  /**
   * Event types after which the stream is never snapshotted again (an erasure): a write checks
   * the log for them under the stream's lock, so none lands after such an event commits.
   */
  notAfter?: readonly string[];
  /** Transforms the state into and out of the table (encryption). Default: stored as it is. */
  codec?: SnapshotCodec<S>;
}

/**
 * Declares how an aggregate is snapshotted, checked at once: a bad name, version or `every`
 * throws `EventStoreOptionsError` (`EVENT_STORE.INVALID_OPTIONS`) naming the field.
 */
export function defineSnapshot<A extends EventSourcedAggregate, S>(definition: SnapshotDefinition<A, S>): SnapshotDefinition<A, S> {
  const where = `Snapshot definition "${String(definition.name)}"`;
  if (typeof definition.name !== 'string' || !/^[A-Za-z][A-Za-z0-9_.-]{0,99}$/.test(definition.name)) {
    throw new EventStoreOptionsError(`${where}: name must be 1-100 letters, digits, _ . - starting with a letter`);
  }
  if (!Number.isInteger(definition.version) || definition.version < 1) {
    throw new EventStoreOptionsError(`${where}: version must be an integer >= 1`);
  }
  if (!Number.isInteger(definition.every) || definition.every < 0) {
    throw new EventStoreOptionsError(`${where}: every must be an integer >= 0 (0 = off)`);
  }
  if (typeof definition.aggregate !== 'function' || typeof definition.take !== 'function' || typeof definition.restore !== 'function') {
    throw new EventStoreOptionsError(`${where}: aggregate, take and restore are required`);
  }
  return definition;
}

/** Checks every definition and that no class or name has two; keyed by aggregate class. */
export function snapshotDefinitionsByClass(definitions: readonly SnapshotDefinition[]): Map<unknown, SnapshotDefinition> {
  const byClass = new Map<unknown, SnapshotDefinition>();
  const names = new Set<string>();
  for (const d of definitions.map((d) => defineSnapshot(d))) {
    if (byClass.has(d.aggregate) || names.has(d.name)) {
      throw new EventStoreOptionsError(`Two snapshot definitions for "${d.name}" (one per aggregate class and per name)`);
    }
    byClass.set(d.aggregate, d);
    names.add(d.name);
  }
  return byClass;
}
