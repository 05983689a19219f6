import { DRAWS_PER_DELTA, EarlyRefresh, REFRESH_FLOOR } from './early-refresh';
import type { CacheEntry } from '../stores/cache-store';

describe('EarlyRefresh: XFetch with a bounded number of draws', () => {
  const entry = (delta: number, expiresAt: number): CacheEntry => ({
    value: 'v',
    computedAt: 0,
    expiresAt,
    staleUntil: expiresAt * 2,
    delta,
    fence: 1,
  });

  it('makes no draw far from expiry (a hit costs no random number there)', () => {
    const random = jest.fn(() => 1e-12);
    const refresh = new EarlyRefresh(random, () => 1);
    expect(refresh.due(entry(100, 1_000_000), 1, 0)).toBe(false); // 10,000 deltas before expiry
    expect(random).not.toHaveBeenCalled();
  });

  it('draws at most once per instances·delta·beta / DRAWS_PER_DELTA per entry on this instance', () => {
    let instances = 1;
    const random = jest.fn(() => 1); // a draw of 1 never refreshes before the floor
    const refresh = new EarlyRefresh(random, () => instances);
    const e = entry(100, 10_000); // delta 100 ms: one draw per 25 ms alone
    const at = (now: number) => refresh.due(e, 1, now);
    [8_000, 8_010, 8_024].forEach(at);
    expect(random).toHaveBeenCalledTimes(1);
    at(8_025);
    expect(random).toHaveBeenCalledTimes(2);
    instances = 3; // three instances share the fleet's budget: one draw per 75 ms here
    [8_050, 8_099].forEach(at);
    expect(random).toHaveBeenCalledTimes(2);
    at(8_100);
    expect(random).toHaveBeenCalledTimes(3);
    expect((3 * 100) / DRAWS_PER_DELTA).toBe(75);
  });

  it('refreshes without a draw within REFRESH_FLOOR·delta·beta of expiry, so a refresh starts with time to finish', () => {
    const random = jest.fn(() => 1);
    const refresh = new EarlyRefresh(random, () => 1);
    const e = entry(100, 10_000);
    expect(refresh.due(e, 1, 10_000 - REFRESH_FLOOR * 100 - 1)).toBe(false);
    expect(refresh.due(e, 1, 10_000 - REFRESH_FLOOR * 100 + 30)).toBe(true);
    expect(random).toHaveBeenCalledTimes(1); // the floor took no draw
    expect(refresh.due(e, 1, 10_000 - REFRESH_FLOOR * 100 + 40)).toBe(false); // paced like draws
  });

  it('keeps the floor at REFRESH_FLOOR·delta when beta is below 1 (later, never too late)', () => {
    const refresh = new EarlyRefresh(
      () => 1,
      () => 1,
    );
    expect(refresh.due(entry(100, 10_000), 0.5, 10_000 - REFRESH_FLOOR * 100 + 1)).toBe(true);
  });

  it('follows XFetch between the floor and the far limit: a small draw refreshes early', () => {
    const refresh = new EarlyRefresh(
      () => Math.exp(-5),
      () => 1,
    ); // lead = 5 deltas
    expect(refresh.due(entry(100, 10_000), 1, 9_400)).toBe(false); // 6 deltas before expiry
    expect(refresh.due(entry(100, 10_000), 1, 9_520)).toBe(true); // 4.8 deltas before (a new entry object: no pacing)
  });

  it('never refreshes early with beta 0 or an unknown delta', () => {
    const refresh = new EarlyRefresh(
      () => 1e-9,
      () => 1,
    );
    expect(refresh.due(entry(100, 10_000), 0, 9_999)).toBe(false);
    expect(refresh.due(entry(0, 10_000), 1, 9_999)).toBe(false);
  });
});
