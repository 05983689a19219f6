import { randomUUID } from 'node:crypto';
import { InvalidAppendError } from '../errors';
import type { EventToWrite } from '../postgres/append-request';
import type { Queryable } from '../postgres/queryable';
import type { EventRegistry } from '../registry/event-registry';
import type { StoredEvent } from '../types';
import { DataKeyRing } from './data-key-ring';
import { isSealedField, unwrapKey } from './field-cipher';
import { PersonalDataUnreadableError, SealedFieldError } from './personal-data-errors';
import { PersonalDataKeys } from './personal-data-keys';
import type { PersonalFields } from './personal-fields';
import { hasSealedField, openFields, revealStored, sealFields } from './sealing';

/**
 * Encrypts and decrypts personal fields of records other than events (a snapshot, say)
 * with their subject's key, exactly as the store does for events. `recordId` is bound into
 * each field's associated data with the field name: use an id unique to the record (e.g.
 * `snapshot:<streamId>:<version>`), and the same one to decrypt.
 */
export interface PersonalDataCipher {
  /**
   * The data with each plaintext string field of `fields` encrypted (a copy). Makes the
   * subject's key if it has none.
   * @throws PersonalDataErasedError when the subject is erased: store nothing personal for it
   */
  encryptFields(subject: string, recordId: string, data: Record<string, unknown>, fields: PersonalFields): Promise<Record<string, unknown>>;
  /**
   * The data with each encrypted field of `fields` decrypted (a copy); an erased subject's
   * fields read as their markers (`[erased]`, `erased@erased.invalid`).
   * @throws SealedFieldError when a key is missing without tombstone or a field fails authentication
   */
  decryptFields(subject: string, recordId: string, data: Record<string, unknown>, fields: PersonalFields): Promise<Record<string, unknown>>;
}

/**
 * Crypto-shredding for one store: personal fields (as the registry declares them per event
 * type and version) are sealed at append with the data key of their subject, the stream id,
 * and opened on read, before upcasting and validation. `erase` deletes a subject's key in
 * the caller's transaction and leaves a tombstone: from then on its fields read as markers.
 */
export class PersonalData implements PersonalDataCipher {
  /** The key and tombstone tables. */
  readonly keys: PersonalDataKeys;
  private readonly ring: DataKeyRing;

  constructor(
    db: Queryable,
    schema: string,
    private readonly master: Buffer,
    private readonly registry: EventRegistry,
  ) {
    this.keys = new PersonalDataKeys(schema);
    this.ring = new DataKeyRing(db, this.keys, master);
  }

  /**
   * Each stream's events with their plaintext personal fields sealed (copies; an event
   * without any is passed on as it is). An event without an id gets one first, on the
   * caller's object, since the id is bound into the ciphertext and a retry must reuse it.
   * @throws PersonalDataErasedError when a stream's subject is erased
   */
  async sealEvents(
    appends: ReadonlyArray<{ streamId: string; events: EventToWrite[] }>,
    erased: 'throw' | 'shred' = 'throw',
  ): Promise<EventToWrite[][]> {
    // Each event's plaintext fields once: the subjects to key come from them, and so do the seals.
    const plaintext = appends.map(({ events }) => events.map((e) => this.plaintextOf(e)));
    const subjects = new Set<string>();
    appends.forEach(({ streamId }, i) => plaintext[i].some(Boolean) && subjects.add(streamId));
    if (!subjects.size) return appends.map((a) => a.events);
    const keys = await this.ring.forWriting(subjects, erased);
    return appends.map(({ streamId, events }, i) =>
      events.map((e, j) => {
        const fields = plaintext[i][j];
        if (!fields) return e;
        e.eventId ??= randomUUID();
        try {
          return { ...e, data: sealFields(e.data, fields, keys.get(streamId)!, e.eventId) };
        } catch (error) {
          throw new InvalidAppendError(`${e.type}: ${(error as Error).message}`);
        }
      }),
    );
  }

  /** Copies of batch appends (`appendToStreams`) with their events sealed as `sealEvents` does. */
  async sealAppends<A extends { streamId: string; events: EventToWrite[] }>(appends: A[]): Promise<A[]> {
    const sealed = await this.sealEvents(appends.map((a) => ({ streamId: a?.streamId, events: a?.events ?? [] })));
    return appends.map((a, i) => ({ ...a, events: sealed[i] }));
  }

  /**
   * The rows with their sealed personal fields opened (one round trip for a batch that has
   * any), each row or, in its place, the error that says why it cannot be read.
   */
  async reveal(rows: StoredEvent[]): Promise<Array<StoredEvent | PersonalDataUnreadableError>> {
    const fieldsOf = rows.map((row) => this.registry.personalFields(row.type, row.schemaVersion));
    const subjects = new Set<string>();
    rows.forEach((row, i) => {
      const fields = fieldsOf[i];
      if (fields && hasSealedField(row.data, fields)) subjects.add(row.streamId);
    });
    if (!subjects.size) return rows;
    const states = await this.ring.forReading(subjects);
    return rows.map((row, i) => {
      const fields = fieldsOf[i];
      return fields && subjects.has(row.streamId) ? revealStored(row, fields, states.get(row.streamId)) : row;
    });
  }

  /** True when `wrapped` is a key of `subject` wrapped by this store's master key. */
  unwraps(subject: string, wrapped: Buffer): boolean {
    try {
      unwrapKey(this.master, wrapped, subject);
      return true;
    } catch {
      return false;
    }
  }

  /** Deletes `subject`'s data key and leaves its tombstone, in the transaction of `q` (e.g. with the erasure event). */
  erase(q: Queryable, subject: string): Promise<void> {
    return this.keys.erase(q, subject);
  }

  async encryptFields(subject: string, recordId: string, data: Record<string, unknown>, fields: PersonalFields) {
    const keys = await this.ring.forWriting([subject]);
    return sealFields(data, fields, keys.get(subject)!, recordId);
  }

  async decryptFields(subject: string, recordId: string, data: Record<string, unknown>, fields: PersonalFields) {
    if (!hasSealedField(data, fields)) return { ...data };
    const states = await this.ring.forReading([subject]);
    const opened = openFields(data, fields, states.get(subject), recordId);
    if (typeof opened === 'string') throw new SealedFieldError(subject, recordId, opened);
    return opened === data ? { ...data } : opened;
  }

  /** The personal fields of `e` when some of them are plaintext strings, else undefined. */
  private plaintextOf(e: EventToWrite): PersonalFields | undefined {
    if (e === null || typeof e !== 'object' || e.data === null || typeof e.data !== 'object') return undefined;
    const fields = this.registry.personalFields(e.type, e.schemaVersion);
    if (!fields) return undefined;
    for (const field in fields) if (e.data[field] !== undefined && !isSealedField(e.data[field])) return fields;
    return undefined;
  }
}
