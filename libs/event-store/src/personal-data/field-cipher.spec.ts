import { fieldAad, isSealedField, openValue, parseMasterKey, sealValue, unwrapKey, wrapKey } from './field-cipher';

describe('field cipher (AES-256-GCM)', () => {
  const key = Buffer.alloc(32, 1);
  const event = '00000000-0000-4000-8000-00000000000a';

  it('seals a value into an envelope no plaintext personal field (a string) can be', () => {
    const sealed = sealValue(key, 'Ada Lovelace', fieldAad(event, 'name'));
    expect(isSealedField(sealed)).toBe(true);
    expect(JSON.stringify(sealed)).not.toContain('Ada');
    for (const plain of ['Ada', '{"$pii":"aes-256-gcm"}', JSON.stringify(sealed)]) expect(isSealedField(plain)).toBe(false);
    expect(isSealedField({ ...sealed, extra: 1 })).toBe(false);
    expect(openValue(key, sealed, fieldAad(event, 'name'))).toBe('Ada Lovelace');
  });

  it('fails authentication when moved to another field or event, altered, or opened with another key', () => {
    const sealed = sealValue(key, 'ada@example.com', fieldAad(event, 'email'));
    expect(() => openValue(key, sealed, fieldAad(event, 'name'))).toThrow();
    expect(() => openValue(key, sealed, fieldAad('00000000-0000-4000-8000-00000000000b', 'email'))).toThrow();
    expect(() => openValue(Buffer.alloc(32, 2), sealed, fieldAad(event, 'email'))).toThrow();
    const ct = Buffer.from(sealed.ct, 'base64');
    ct[0] ^= 1;
    expect(() => openValue(key, { ...sealed, ct: ct.toString('base64') }, fieldAad(event, 'email'))).toThrow();
    expect(() => openValue(key, { ...sealed, tag: 'AAAA' }, fieldAad(event, 'email'))).toThrow(/tag length/);
  });

  it('wraps a data key with the master key, bound to its subject', () => {
    const master = Buffer.alloc(32, 9);
    const wrapped = wrapKey(master, key, 'user-1');
    expect(unwrapKey(master, wrapped, 'user-1')).toEqual(key);
    expect(() => unwrapKey(master, wrapped, 'user-2')).toThrow();
    expect(() => unwrapKey(Buffer.alloc(32, 8), wrapped, 'user-1')).toThrow();
  });

  it('reads a master key as 64 hex digits or base64 of 32 bytes, nothing else', () => {
    expect(parseMasterKey('ab'.repeat(32))).toEqual(Buffer.alloc(32, 0xab));
    expect(parseMasterKey(Buffer.alloc(32, 3).toString('base64'))).toEqual(Buffer.alloc(32, 3));
    for (const bad of ['', 'ab'.repeat(31), Buffer.alloc(16).toString('base64'), 'not a key at all, clearly not'])
      expect(() => parseMasterKey(bad)).toThrow(/32 bytes/);
  });
});
