import type { CacheEntry } from '../stores/cache-store';
import { xfetchShouldRefresh } from './xfetch';

/**
 * Beyond this many `delta·beta` before expiry an XFetch draw refreshes with a chance below
 * e^-30 (about 1e-13), so no draw is made: most hits then cost no random number and no logarithm.
 */
const NO_DRAW_BEYOND = 30;
/** Draws the whole fleet makes per `delta·beta`, at most, near an entry's expiry (see {@link EarlyRefresh}). */
export const DRAWS_PER_DELTA = 4;
/** Within this many `delta·max(beta, 1)` of expiry, a read refreshes without a draw: the refresh then starts in time. */
export const REFRESH_FLOOR = 2;

/**
 * The early-refresh decision of a fresh hit: XFetch, with the number of draws bounded.
 *
 * XFetch's expected lead is `delta·beta·(ln(λ·delta·beta) + 0.577)`, where λ is the rate of
 * reads that draw. Every read of every instance drawing, λ is the fleet's read rate, and the
 * lead (so the refreshes per ttl, `ttl / (ttl − lead + delta)`) grows with traffic and with the
 * number of instances, while one refresh finishing just before expiry is all a key needs: 3
 * processes at 300 reads/s with a 200 ms factory refreshed 1.4 times per 3 s ttl and 1.67 per
 * 2 s ttl (docs/benchmarks.md). So each instance draws at most once per
 * `instances·delta·beta / DRAWS_PER_DELTA` per entry (the fleet at most `DRAWS_PER_DELTA` times
 * per `delta·beta`, whatever the traffic), and a read within `REFRESH_FLOOR·delta·max(beta, 1)` of expiry
 * refreshes without a draw (paced the same way), so a refresh still starts before expiry with
 * time to finish when traffic is thin or the draws were unlucky. The lead is then about
 * 2–3 `delta·beta` at any traffic. `beta` 0 still turns early refresh off.
 */
export class EarlyRefresh {
  /** When this instance last drew for an entry (entries in L1 are the same object from hit to hit). */
  private readonly lastDraw = new WeakMap<CacheEntry, number>();

  constructor(
    private readonly random: () => number,
    /** Instances sharing the keys (this one included): 1 without Redis. */
    private readonly instances: () => number,
  ) {}

  /** Whether this read of a fresh `entry` should start a background refresh now. */
  due(entry: CacheEntry, beta: number, now: number): boolean {
    const scale = entry.delta * beta;
    const remaining = entry.expiresAt - now;
    if (!(scale > 0) || remaining > NO_DRAW_BEYOND * scale) return false;
    const last = this.lastDraw.get(entry);
    if (last !== undefined && now - last < (Math.max(1, this.instances()) * scale) / DRAWS_PER_DELTA) return false;
    this.lastDraw.set(entry, now);
    if (remaining <= REFRESH_FLOOR * entry.delta * Math.max(1, beta)) return true; // a beta below 1 refreshes later, not too late
    return xfetchShouldRefresh({ nowMs: now, expiresAtMs: entry.expiresAt, deltaMs: entry.delta, beta, random: this.random() });
  }
}
