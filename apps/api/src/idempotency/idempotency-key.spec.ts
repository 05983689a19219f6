import { canonicalJson, parseIdempotencyKey, requestFingerprint } from './idempotency-key';

describe('Idempotency-Key header', () => {
  it.each([
    ['8e03978e-40d5-43e8-bc93-6894a57f9324', '8e03978e-40d5-43e8-bc93-6894a57f9324'],
    ['"8e03978e-40d5-43e8-bc93-6894a57f9324"', '8e03978e-40d5-43e8-bc93-6894a57f9324'],
    ['  01HZX3  ', '01HZX3'],
    ['a'.repeat(255), 'a'.repeat(255)],
    ["!#$%&'()*+,-./:;<=>?@[]^_`{|}~", "!#$%&'()*+,-./:;<=>?@[]^_`{|}~"],
  ])('accepts %p', (header, key) => {
    expect(parseIdempotencyKey(header)).toBe(key);
  });

  it('is optional', () => {
    expect(parseIdempotencyKey(undefined)).toBeUndefined();
  });

  it.each([
    ['empty', ''],
    ['empty quotes', '""'],
    ['too long', 'a'.repeat(256)],
    ['a space', 'a b'],
    ['a quote inside', 'a"b'],
    ['a backslash', 'a\\b'],
    ['a control character', 'a\u0001b'],
    ['non-ASCII', 'clé'],
    ['sent twice and joined', 'a, b'],
  ])('refuses %s with 400 REQUEST.INVALID_IDEMPOTENCY_KEY', (_name, header) => {
    expect(() => parseIdempotencyKey(header)).toThrow(expect.objectContaining({ code: 'REQUEST.INVALID_IDEMPOTENCY_KEY', status: 400 }));
  });

  it('refuses the header given as a list', () => {
    expect(() => parseIdempotencyKey(['a', 'b'])).toThrow(expect.objectContaining({ status: 400 }));
  });
});

describe('request fingerprint', () => {
  const base = { scope: 'POST /users/:id/points', params: { id: 'u1' }, body: { points: 5, reason: 'r' }, ifMatch: undefined };
  const fp = (change: Partial<typeof base> | Record<string, unknown>) => requestFingerprint({ ...base, ...change });

  it('ignores key order and spacing of the body', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { y: 1, x: 2 }], c: null } })).toBe('{"a":{"c":null,"d":[2,{"x":2,"y":1}]},"b":1}');
    expect(fp({ body: { reason: 'r', points: 5 } })).toBe(fp({}));
  });

  it('treats "3", 3 and W/"3" as one If-Match precondition', () => {
    expect(fp({ ifMatch: '"3"' })).toBe(fp({ ifMatch: '3' }));
    expect(fp({ ifMatch: 'W/"3"' })).toBe(fp({ ifMatch: '3' }));
    expect(fp({ ifMatch: '4' })).not.toBe(fp({ ifMatch: '3' }));
    expect(fp({ ifMatch: '3' })).not.toBe(fp({}));
  });

  it('differs by route, path parameter and body', () => {
    expect(fp({ scope: 'PUT /users/:id/name' })).not.toBe(fp({}));
    expect(fp({ params: { id: 'u2' } })).not.toBe(fp({}));
    expect(fp({ body: { points: 6, reason: 'r' } })).not.toBe(fp({}));
    expect(fp({ body: undefined })).not.toBe(fp({}));
  });
});
