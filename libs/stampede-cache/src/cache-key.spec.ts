import { CacheKey, buildCacheKey } from './cache-key';

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
});
