import type { EventLocation } from '../errors';
import type { StoredEvent } from '../types';
import type { KeyState } from './data-key-ring';
import { fieldAad, isSealedField, openValue, sealValue } from './field-cipher';
import { PersonalDataUnreadableError } from './personal-data-errors';
import { ERASED_MARKERS, type PersonalFields } from './personal-fields';

/**
 * Encrypts the personal fields of `data` that are plaintext strings; envelopes (already
 * sealed, e.g. an exported event) and absent fields are left as they are. A copy is returned.
 * @throws TypeError when a personal field holds something other than a string
 */
export function sealFields(data: Record<string, unknown>, fields: PersonalFields, key: Buffer, recordId: string): Record<string, unknown> {
  const sealed = { ...data };
  for (const field of Object.keys(fields)) {
    const value = data[field];
    if (value === undefined || isSealedField(value)) continue;
    if (typeof value !== 'string') throw new TypeError(`personal field "${field}" must be a string`);
    sealed[field] = sealValue(key, value, fieldAad(recordId, field));
  }
  return sealed;
}

/**
 * Decrypts the sealed personal fields of `data` (a copy is returned): with the key, the
 * plaintext; for an erased subject, the kind's marker. Plaintext fields (written before
 * encryption) pass through.
 * @returns the data, or why it cannot be read (a missing key without tombstone, a failed authentication)
 */
export function openFields(
  data: Record<string, unknown>,
  fields: PersonalFields,
  state: KeyState | undefined,
  recordId: string,
): Record<string, unknown> | string {
  let opened: Record<string, unknown> | undefined;
  for (const [field, kind] of Object.entries(fields)) {
    const value = data[field];
    if (!isSealedField(value)) continue;
    opened ??= { ...data };
    if (!state) return 'no data key was looked up';
    if ('missing' in state) return state.missing;
    if ('erased' in state) {
      opened[field] = ERASED_MARKERS[kind];
      continue;
    }
    try {
      opened[field] = openValue(state.key, value, fieldAad(recordId, field));
    } catch {
      return `personal field "${field}" fails authentication`;
    }
  }
  return opened ?? data;
}

/** True when some personal field of `data` is sealed. */
export function hasSealedField(data: Record<string, unknown>, fields: PersonalFields): boolean {
  for (const field in fields) if (isSealedField(data[field])) return true;
  return false;
}

/** How many personal fields of `data` are plaintext strings (written before encryption). */
export function plaintextFieldCount(data: Record<string, unknown>, fields: PersonalFields): number {
  let count = 0;
  for (const field in fields) if (typeof data[field] === 'string') count++;
  return count;
}

/** A stored event with its personal fields opened, or the error that says why it cannot be. */
export function revealStored(
  row: StoredEvent,
  fields: PersonalFields,
  state: KeyState | undefined,
): StoredEvent | PersonalDataUnreadableError {
  const data = openFields(row.data, fields, state, row.eventId);
  if (typeof data === 'string') return new PersonalDataUnreadableError(locate(row), data);
  return data === row.data ? row : { ...row, data };
}

function locate(stored: StoredEvent): EventLocation {
  const { position, streamId, streamVersion, eventId, type, schemaVersion } = stored;
  return { position, streamId, streamVersion, eventId, type, schemaVersion };
}
