/** A cached value plus what XFetch, fail-safe, fencing and invalidation need. Times are epoch ms. */
export interface CacheEntry {
  value: unknown;
  /** When the factory that produced `value` started: the data is at least this fresh. */
  computedAt: number;
  /** Logical expiry; XFetch refreshes probabilistically before it. */
  expiresAt: number;
  /** Physical expiry: until then the value may still be served as stale. */
  staleUntil: number;
  /** Smoothed recompute time in ms (XFetch's delta). */
  delta: number;
  /**
   * The fence of the computation that wrote it, issued with its lock. Fences of one key
   * only grow, and a write is accepted only with the key's latest fence, so an older
   * computation (or one started before an invalidation) never overwrites a newer value.
   */
  fence: number;
  /** Versions of the entry's tags when it was computed; a bumped tag invalidates it. */
  tags?: Record<string, number>;
  /** A stale value written back after a failed refresh: served as STALE until `expiresAt`. */
  failSafe?: boolean;
  /**
   * The fence of the computation that produced `value`, when it differs from `fence` (a
   * fail-safe extension carries a newer fence but the old value). Read-your-writes compares it.
   */
  valueFence?: number;
  /** No early (XFetch) refresh before this instant: set after a failed refresh of a fresh value. */
  refreshAfter?: number;
  /** A negative result (e.g. "not found"), cached briefly and bounded apart. */
  negative?: boolean;
}

/** Result of {@link CacheStore.tryLock}: the holder gets a fence; losers learn when the lock expires at the latest. */
export type LockAttempt = { acquired: true; fence: number } | { acquired: false; remainingMs: number };

/** How tag versions are read: validation only reads, stamping creates absent tags and keeps them alive. */
export interface TagReadOptions {
  /** Give absent tags a version (`createAt`, else the store's clock) instead of reporting them absent. */
  create: boolean;
  /** Keep every listed tag for at least this long (only with `create`). */
  ttlMs?: number;
  /** Version of tags created now; used to stamp after a computation with its start (its fence). */
  createAt?: number;
}

/**
 * Storage for entries, per-key locks and fences, and tag versions. Ids are already-encoded
 * `CacheKey.id`s. Fences and tag versions are microseconds of the store's clock, made
 * strictly increasing per key, so a version created after another is always greater,
 * even when the record of the older one expired in between.
 */
export interface CacheStore {
  /**
   * The clock fences of `id` are issued from, now, in microseconds (Redis `TIME` of the key's
   * node): what "a computation that started after instant t" is decided with, instead of
   * comparing wall clocks of two instances.
   */
  fenceClock(id: string): Promise<number>;
  /** The entry, or undefined when absent or physically expired. */
  get(id: string): Promise<CacheEntry | undefined>;
  /**
   * Stores the entry until `entry.staleUntil` iff `entry.fence` is still the key's latest
   * fence (no newer lock holder, no invalidation since). With `expectFence`, also only if
   * the stored entry has that fence (a fail-safe extension of exactly the value read).
   * @returns whether it was written
   */
  write(id: string, entry: CacheEntry, expectFence?: number): Promise<boolean>;
  /**
   * Deletes the entry, issues a new fence (no computation that started before can write)
   * and breaks the lock (nobody waits for such a computation).
   */
  invalidate(id: string, fenceTtlMs: number): Promise<number>;
  /**
   * {@link invalidate} for every key of the namespace that has an entry or a lock: how "all"
   * is invalidated without a tag that every entry carries (which would be read and written on
   * every operation: one hot key, on one Cluster shard).
   */
  invalidateAll(fenceTtlMs: number): Promise<void>;
  /** Takes the key's lock for `ttlMs` if free (SET NX PX) and issues a fence kept for `fenceTtlMs`. */
  tryLock(id: string, token: string, ttlMs: number, fenceTtlMs: number): Promise<LockAttempt>;
  /** Extends the lock to `ttlMs` from now if `token` still owns it. */
  renewLock(id: string, token: string, ttlMs: number): Promise<boolean>;
  /** Releases the lock only if `token` still owns it (compare-and-delete); true when released. */
  unlock(id: string, token: string): Promise<boolean>;
  /** Current version of each tag (undefined: absent, unless `create`). */
  tagVersions(tags: string[], options: TagReadOptions): Promise<Record<string, number | undefined>>;
  /** Keeps each existing tag for at least `ttlMs` from now (an entry stamped with it was written for that long). */
  keepTags(tags: string[], ttlMs: number): Promise<void>;
  /** Gives each tag a new, greater version (invalidating every entry stamped with an older one) and returns them. */
  bumpTags(tags: string[], ttlMs: number): Promise<Record<string, number>>;
}
