import { EventReadError, EventStoreError } from '../errors';

/**
 * A personal field cannot be decrypted: its person's key is missing without a tombstone
 * (not an erasure: a lost key), the ciphertext fails authentication (altered, or moved to
 * another event or field), or the store has no master key. Never read as "erased".
 */
export class PersonalDataUnreadableError extends EventReadError {
  readonly code = 'EVENT_STORE.PERSONAL_DATA_UNREADABLE';
}

/** Personal data was appended for a person who has been erased: no key is ever made again for them. */
export class PersonalDataErasedError extends EventStoreError {
  readonly code = 'EVENT_STORE.PERSONAL_DATA_ERASED';
  constructor(readonly subject: string) {
    super(`"${subject}" has been erased: no personal data can be stored for it`);
  }
}

/** A sealed field of a record other than an event (see `PersonalDataCipher`) cannot be decrypted. */
export class SealedFieldError extends EventStoreError {
  readonly code = 'EVENT_STORE.PERSONAL_DATA_UNREADABLE';
  constructor(
    readonly subject: string,
    readonly recordId: string,
    readonly reason: string,
  ) {
    super(`Cannot decrypt personal data of "${subject}" in ${recordId}: ${reason}`);
  }
}
