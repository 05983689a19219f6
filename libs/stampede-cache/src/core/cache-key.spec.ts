import fc from 'fast-check';
import { CacheKey, buildCacheKey, type CacheKeyInput } from './cache-key';

describe('CacheKey', () => {
  it('sorts, normalises and encodes inputs, dropping undefined ones', () => {
    const a = buildCacheKey('leaderboard', { window: ' week ', limit: 10, includeBots: false, cursor: undefined });
    const b = buildCacheKey('leaderboard', { includeBots: false, limit: 10, window: 'week' });
    expect(a.id).toBe(b.id);
    expect(a.id).toBe('leaderboard?includeBots=false&limit=10&window=week');
  });

  it('never lets user text produce Redis key syntax', () => {
    const key = buildCacheKey('users', { name: 'x}:{evil} *&a=b' });
    expect(key.id).not.toMatch(/[{}:\s]/);
    expect(key.id).toBe('users?name=x%7D%3A%7Bevil%7D%20*%26a%3Db');
    expect(CacheKey.from('a:{b}').id).toBe('a%3A%7Bb%7D');
  });

  it('hashes long identities to a bounded, stable, readable key', () => {
    const long = buildCacheKey('search', { q: 'x'.repeat(5_000) });
    expect(long.id.length).toBeLessThan(120);
    expect(long.id.startsWith('search')).toBe(true);
    expect(buildCacheKey('search', { q: 'x'.repeat(5_000) }).id).toBe(long.id);
    expect(buildCacheKey('search', { q: 'x'.repeat(4_999) }).id).not.toBe(long.id);
  });

  it('rejects inputs that cannot be normalised', () => {
    expect(() => buildCacheKey('', {})).toThrow(expect.objectContaining({ code: 'CACHE.INVALID_KEY' }));
    expect(() => buildCacheKey('n', { x: Number.NaN })).toThrow(expect.objectContaining({ code: 'CACHE.INVALID_KEY' }));
    expect(() => CacheKey.from('')).toThrow(expect.objectContaining({ code: 'CACHE.INVALID_KEY' }));
  });

  it('passes an existing key through unchanged', () => {
    const key = buildCacheKey('a', { b: 1 });
    expect(CacheKey.from(key)).toBe(key);
  });

  it('builds through a shape (names sorted and encoded once) the key the plain rule gives', () => {
    // The rule, written out plainly: defined inputs sorted by name, normalised, encoded, joined.
    const plain = (part: string, inputs: Record<string, CacheKeyInput>) => {
      const pairs = Object.keys(inputs)
        .filter((name) => inputs[name] !== undefined)
        .sort()
        .map((name) => {
          const value = inputs[name];
          const text = typeof value === 'string' ? value.trim().normalize('NFC') : String(value);
          return `${encodeURIComponent(name)}=${encodeURIComponent(text)}`;
        });
      const encoded = encodeURIComponent(part.trim());
      return pairs.length ? `${encoded}?${pairs.join('&')}` : encoded;
    };
    const input = fc.oneof(fc.string({ maxLength: 8 }), fc.integer(), fc.boolean(), fc.constant(undefined));
    const inputs = fc.dictionary(fc.string({ minLength: 1, maxLength: 6 }), input, { maxKeys: 5 });
    fc.assert(
      fc.property(inputs, fc.string({ minLength: 1, maxLength: 10 }), (values, part) => {
        fc.pre(part.trim().length > 0 && !/[\uD800-\uDFFF]/.test(JSON.stringify(values) + part));
        const expected = plain(part, values);
        fc.pre(expected.length <= 200);
        const names = Object.keys(values);
        expect(CacheKey.shape(part, names).key(names.map((name) => values[name])).id).toBe(expected);
        expect(CacheKey.of(part, values).id).toBe(expected);
      }),
      { numRuns: 300 },
    );
    const shape = CacheKey.shape('http /stampede/l1', []);
    expect(shape.key([])).toBe(shape.key([])); // no inputs: built once
  });
});
