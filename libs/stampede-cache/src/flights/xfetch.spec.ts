import { seededRandom } from '../testing/seeded-random';
import { recomputeDelta, xfetchRefreshLead, xfetchShouldRefresh } from './xfetch';

describe('xfetchShouldRefresh', () => {
  const base = { expiresAtMs: 10_000, deltaMs: 100, beta: 1 };

  it('refreshes early exactly when now - delta*beta*ln(rand) >= expiry', () => {
    // rand = e^-1: lead = 100 ms, so the boundary is now = 9_900.
    const random = Math.exp(-1);
    expect(xfetchShouldRefresh({ ...base, nowMs: 9_899, random })).toBe(false);
    expect(xfetchShouldRefresh({ ...base, nowMs: 9_900.0001, random })).toBe(true);
    // rand = e^-3: lead = 300 ms.
    expect(xfetchShouldRefresh({ ...base, nowMs: 9_650, random: Math.exp(-3) })).toBe(false);
    expect(xfetchShouldRefresh({ ...base, nowMs: 9_700.0001, random: Math.exp(-3) })).toBe(true);
  });

  it('scales the lead with beta and delta', () => {
    const random = Math.exp(-1);
    expect(xfetchShouldRefresh({ ...base, beta: 2, nowMs: 9_800.0001, random })).toBe(true);
    expect(xfetchShouldRefresh({ ...base, beta: 0.5, nowMs: 9_900, random })).toBe(false);
    expect(xfetchShouldRefresh({ ...base, deltaMs: 1_000, nowMs: 9_000.0001, random })).toBe(true);
  });

  it('never refreshes early with rand = 1, beta = 0 or delta = 0, but always once expired', () => {
    expect(xfetchShouldRefresh({ ...base, nowMs: 9_999, random: 1 })).toBe(false);
    expect(xfetchShouldRefresh({ ...base, beta: 0, nowMs: 9_999, random: 1e-9 })).toBe(false);
    expect(xfetchShouldRefresh({ ...base, deltaMs: 0, nowMs: 9_999, random: 1e-9 })).toBe(false);
    expect(xfetchShouldRefresh({ ...base, beta: 0, nowMs: 10_000, random: 1 })).toBe(true);
  });

  it('gives the exact decisions of a seeded source', () => {
    const random = seededRandom(42);
    const draws = Array.from({ length: 5 }, () => random());
    const decisions = draws.map((r) => xfetchShouldRefresh({ ...base, nowMs: 9_900, random: r }));
    // With lead = -100 ln(r), a reader 100 ms before expiry refreshes iff r <= e^-1.
    expect(decisions).toEqual(draws.map((r) => r <= Math.exp(-1)));
    expect(xfetchRefreshLead(100, 1, draws[0])).toBeCloseTo(-100 * Math.log(draws[0]), 9);
  });
});

describe('XFetch under a Poisson request stream', () => {
  /**
   * Requests arrive as a Poisson process of rate λ. A request g ms before expiry refreshes
   * with probability P(-δβ ln U >= g) = e^(-g/δβ), so refreshes form a thinned Poisson
   * process and the lead time L of the first one has CDF P(L <= g) = exp(-λδβ e^(-g/δβ)):
   * a Gumbel law with location δβ ln(λδβ), scale δβ and mean δβ (ln(λδβ) + γ).
   */
  const lambda = 0.5; // requests per ms
  const delta = 40;
  const beta = 1;
  const trials = 3_000;
  const eulerGamma = 0.5772156649;

  function simulateLead(random: () => number): number {
    const expiresAtMs = 2_000; // far enough ahead that P(L > 2000) is ~1e-20
    let now = 0;
    for (;;) {
      now += -Math.log(random()) / lambda; // exponential inter-arrival
      if (xfetchShouldRefresh({ nowMs: now, expiresAtMs, deltaMs: delta, beta, random: random() })) return expiresAtMs - now;
    }
  }

  const random = seededRandom(2015);
  const leads = Array.from({ length: trials }, () => simulateLead(random)).sort((a, b) => a - b);
  const scale = delta * beta;
  const gumbelCdf = (g: number) => Math.exp(-lambda * scale * Math.exp(-g / scale));

  it('has the analytic mean lead time', () => {
    const expected = scale * (Math.log(lambda * scale) + eulerGamma);
    const mean = leads.reduce((sum, lead) => sum + lead, 0) / trials;
    const standardError = (scale * Math.PI) / Math.sqrt(6) / Math.sqrt(trials);
    expect(Math.abs(mean - expected)).toBeLessThan(4 * standardError);
  });

  it('has the analytic distribution (Kolmogorov-Smirnov at the 1% level)', () => {
    let distance = 0;
    leads.forEach((lead, i) => {
      const cdf = gumbelCdf(lead);
      distance = Math.max(distance, Math.abs((i + 1) / trials - cdf), Math.abs(i / trials - cdf));
    });
    expect(distance).toBeLessThan(1.63 / Math.sqrt(trials));
    expect(leads[0]).toBeGreaterThan(0); // nobody needed to wait for expiry
  });
});

describe('recomputeDelta', () => {
  it('starts at the first measurement and then moves by the smoothing weight', () => {
    expect(recomputeDelta(undefined, 120)).toBe(120);
    expect(recomputeDelta(100, 200)).toBeCloseTo(130, 9);
    expect(recomputeDelta(100, 200, 1)).toBe(200);
    expect(recomputeDelta(100, -5)).toBeCloseTo(70, 9);
  });
});
