/**
 * The one small interface every store implements. Stores are dumb: they keep entries,
 * locks and tag versions; all policy (XFetch, fail-safe, single flight) lives above them.
 */

/** A stored value plus the XFetch parameters it was computed with (all times epoch ms). */
export interface CacheEntry<T = unknown> {
  value: T;
  /** When the factory that produced `value` started: the data is at least this fresh. */
  computedAt: number;
  /** Logical expiry; XFetch refreshes probabilistically before it. */
  expiresAt: number;
  /** Physical expiry: until then the value may still be served as stale. */
  staleUntil: number;
  /** Smoothed recompute time in ms (XFetch's delta). */
  delta: number;
  /** Versions of the entry's tags when it was computed; a bumped tag invalidates it. */
  tags?: Record<string, number>;
  /** Set on a stale value written back after a failed refresh: served as STALE until `expiresAt`. */
  failSafe?: boolean;
}

/** Result of {@link CacheStore.tryLock}: losers learn when the lock expires at the latest. */
export type LockAttempt = { acquired: true } | { acquired: false; remainingMs: number };

/** Storage for entries, per-key locks and tag versions. Ids are already-encoded `CacheKey.id`s. */
export interface CacheStore {
  /** The entry, or undefined when absent or physically expired. */
  get(id: string): Promise<CacheEntry | undefined>;
  /** Stores the entry until `entry.staleUntil`; an entry already past it is not stored. */
  set(id: string, entry: CacheEntry): Promise<void>;
  /** Removes the entry (not its lock). */
  delete(id: string): Promise<void>;
  /** Takes the key's lock for `ttlMs` if free (SET NX PX semantics); otherwise reports how long the holder keeps it. */
  tryLock(id: string, token: string, ttlMs: number): Promise<LockAttempt>;
  /** Releases the lock only if `token` still owns it (compare-and-delete); true when released. */
  unlock(id: string, token: string): Promise<boolean>;
  /** Current version of each tag; never-bumped tags are 0. */
  tagVersions(tags: string[]): Promise<Record<string, number>>;
  /** Increments each tag's version, invalidating every entry computed with the old one. */
  bumpTags(tags: string[]): Promise<void>;
}
