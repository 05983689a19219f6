import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * How a personal field is stored: an object, where every plaintext personal field is a
 * string, so no plaintext value can imitate it. AES-256-GCM with a fresh 96-bit IV per
 * value; the associated data binds it to its event and field (see {@link fieldAad}), so
 * ciphertext moved to another event or field fails authentication.
 */
export interface SealedField {
  $pii: 'aes-256-gcm';
  /** Base64 IV (12 bytes). */
  iv: string;
  /** Base64 ciphertext of the UTF-8 value. */
  ct: string;
  /** Base64 authentication tag (16 bytes). */
  tag: string;
}

const ALGORITHM = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Length of a data key and of the master key, in bytes. */
export const KEY_BYTES = 32;

/** The associated data of one field of one event (or of another record, e.g. a snapshot). */
export const fieldAad = (recordId: string, field: string): Buffer => Buffer.from(`${recordId.toLowerCase()}\u0000${field}`, 'utf8');

/** True for exactly the envelope shape {@link sealValue} writes. */
export function isSealedField(value: unknown): value is SealedField {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const v = value as Record<string, unknown>;
  const keys = Object.keys(v);
  return keys.length === 4 && v.$pii === ALGORITHM && typeof v.iv === 'string' && typeof v.ct === 'string' && typeof v.tag === 'string';
}

/** Encrypts one string value with a data key. */
export function sealValue(key: Buffer, value: string, aad: Buffer): SealedField {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(ALGORITHM, key, iv).setAAD(aad);
  const ct = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
  return { $pii: ALGORITHM, iv: iv.toString('base64'), ct: ct.toString('base64'), tag: cipher.getAuthTag().toString('base64') };
}

/** Decrypts one envelope; throws when it fails authentication (wrong key, altered, or moved). */
export function openValue(key: Buffer, sealed: SealedField, aad: Buffer): string {
  const tag = Buffer.from(sealed.tag, 'base64');
  if (tag.length !== TAG_BYTES) throw new Error('bad authentication tag length');
  const decipher = createDecipheriv(ALGORITHM, key, Buffer.from(sealed.iv, 'base64')).setAAD(aad).setAuthTag(tag);
  return Buffer.concat([decipher.update(Buffer.from(sealed.ct, 'base64')), decipher.final()]).toString('utf8');
}

const wrapAad = (subject: string) => Buffer.from(`personal-data-key\u0000${subject}`, 'utf8');

/** Wraps a data key with the master key, bound to its subject: `iv | tag | ciphertext`. */
export function wrapKey(master: Buffer, dataKey: Buffer, subject: string): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(ALGORITHM, master, iv).setAAD(wrapAad(subject));
  const ct = Buffer.concat([cipher.update(dataKey), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), ct]);
}

/** Unwraps a data key; throws when the master key is not the one that wrapped it. */
export function unwrapKey(master: Buffer, wrapped: Buffer, subject: string): Buffer {
  const iv = wrapped.subarray(0, IV_BYTES);
  const tag = wrapped.subarray(IV_BYTES, IV_BYTES + TAG_BYTES);
  const decipher = createDecipheriv(ALGORITHM, master, iv).setAAD(wrapAad(subject)).setAuthTag(tag);
  return Buffer.concat([decipher.update(wrapped.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
}

/** A fresh random data key. */
export const newDataKey = (): Buffer => randomBytes(KEY_BYTES);

/**
 * Reads a master key given as 64 hex digits or as base64 of 32 bytes; throws otherwise
 * (the message never holds the value).
 */
export function parseMasterKey(text: string): Buffer {
  const trimmed = text.trim();
  const key = /^[0-9a-f]{64}$/i.test(trimmed) ? Buffer.from(trimmed, 'hex') : Buffer.from(trimmed, 'base64');
  if (key.length !== KEY_BYTES || (!/^[0-9a-f]{64}$/i.test(trimmed) && key.toString('base64') !== trimmed)) {
    throw new Error('a master key must be 32 bytes, as 64 hex digits or base64');
  }
  return key;
}
