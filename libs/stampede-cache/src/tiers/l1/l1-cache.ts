import { LRUCache } from 'lru-cache';
import type { L1Options } from '../../core/options';
import type { CacheEntry } from '../../stores/cache-store';
import { BoundedEntries } from '../../stores/bounded-entries';

/** What an L1 lookup found: a value known to be current, or one whose tags must be checked in L2 first. */
export type L1Lookup = { entry: CacheEntry; verified: boolean };

/**
 * The in-process level in front of Redis, and what this instance knows about
 * invalidations: the newest version of each tag it has heard of, and per key the fence of
 * the last invalidation. Both are checked before a value enters L1 and on every hit, in
 * memory, so a computation or an L2 read that started before an invalidation can never
 * put (or keep serving) its value here afterwards. A hit is also refused while the
 * invalidation feed is not trusted (`trusted()`), i.e. when this instance may have missed
 * invalidations. Knowledge is bounded (LRU); forgetting some is recorded in `mark`, and an
 * entry stored before a loss is re-checked in L2 instead of trusted.
 */
export class L1Cache {
  private readonly entries: BoundedEntries;
  /** {@link mark} when each entry was stored: knowledge lost since then makes its tags unverifiable here. */
  private readonly storedAt = new WeakMap<CacheEntry, number>();
  private readonly tagVersions: LRUCache<string, number>;
  private readonly floors: LRUCache<string, number>;
  private losses = 0;

  constructor(
    options: Required<L1Options>,
    private readonly trusted: () => boolean,
  ) {
    this.entries = new BoundedEntries(options);
    const knowledge = Math.max(10_000, options.maxEntries * 4);
    const lost = (_value: number, _key: string, reason: string) => {
      if (reason === 'evict') this.losses += 1;
    };
    this.tagVersions = new LRUCache({ max: knowledge, dispose: lost });
    this.floors = new LRUCache({ max: knowledge, dispose: lost });
  }

  /** Taken before reading L2 or computing; passed back to {@link offer}. */
  mark(): number {
    return this.losses;
  }

  /** A servable L1 entry; `verified: false` when its tags must be checked in L2. */
  lookup(id: string): L1Lookup | undefined {
    const entry = this.current(id);
    return entry && { entry, verified: this.verified(entry) };
  }

  /** {@link lookup} for the hot path: the entry only when it is verified, and nothing allocated. */
  verifiedEntry(id: string): CacheEntry | undefined {
    const entry = this.current(id);
    return entry && this.verified(entry) ? entry : undefined;
  }

  private current(id: string): CacheEntry | undefined {
    const entry = this.entries.get(id);
    if (!entry) return undefined;
    if (!this.trusted() || this.superseded(id, entry)) {
      this.delete(id);
      return undefined;
    }
    return entry;
  }

  private verified(entry: CacheEntry): boolean {
    if (this.storedAt.get(entry) === this.losses) return true;
    for (const tag in entry.tags) if (!this.tagVersions.has(tag)) return false;
    return true;
  }

  /**
   * Stores an entry unless an invalidation this instance knows of supersedes it, knowledge
   * was lost since `mark` (it could not tell), or a newer value is already here.
   * @returns whether it was stored
   */
  offer(id: string, entry: CacheEntry, size: number, mark: number): boolean {
    if (mark !== this.losses || this.superseded(id, entry)) return false;
    const current = this.entries.get(id);
    if (current && current.fence > entry.fence) return false;
    this.observe(entry.tags ?? {});
    this.entries.set(id, entry, size);
    this.storedAt.set(entry, this.losses);
    return true;
  }

  /** Records tag versions read from L2 or stamped: the newest one known wins. */
  observe(versions: Record<string, number | undefined>): void {
    for (const [tag, version] of Object.entries(versions)) {
      if (version !== undefined && version > (this.tagVersions.get(tag) ?? -1)) this.tagVersions.set(tag, version);
    }
  }

  /** A tag invalidation (local or heard): entries stamped with older versions stop being served. */
  applyTags(versions: Record<string, number>): void {
    this.observe(versions);
  }

  /** A key invalidation: the entry goes, and values fenced before `fence` may not come back. */
  applyKeyInvalidation(id: string, fence: number): void {
    this.delete(id);
    if (fence > (this.floors.get(id) ?? -1)) this.floors.set(id, fence);
  }

  /**
   * Another instance wrote a newer value: drop an older local copy so the next read takes the
   * new one, and record the fence as a floor, so a slower L2 read of an older value cannot put it back.
   */
  applyWritten(id: string, fence: number): void {
    const current = this.entries.get(id);
    if (current && current.fence < fence) this.delete(id);
    if (fence > (this.floors.get(id) ?? -1)) this.floors.set(id, fence);
  }

  delete(id: string): void {
    this.entries.delete(id);
  }

  /** Forgets every entry and all knowledge, e.g. after invalidations may have been missed. */
  reset(): void {
    this.entries.clear();
    this.tagVersions.clear();
    this.floors.clear();
    this.losses += 1;
  }

  get usage(): BoundedEntries['usage'] {
    return this.entries.usage;
  }

  /** Runs on every hit: plain loops, no arrays built. */
  private superseded(id: string, entry: CacheEntry): boolean {
    if (entry.fence < (this.floors.get(id) ?? -1)) return true;
    const tags = entry.tags;
    for (const tag in tags) if (tags[tag] < (this.tagVersions.get(tag) ?? -1)) return true;
    return false;
  }
}
