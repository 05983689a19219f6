import { LRUCache } from 'lru-cache';
import { systemClock, type CacheClock } from '../core/clock';
import { entrySize, BoundedEntries } from './bounded-entries';
import { DEFAULT_L1_OPTIONS, type L1Options } from '../core/options';
import type { CacheEntry, CacheStore, LockAttempt, TagReadOptions } from './cache-store';

/** A value that lives until `until` (epoch ms of the store's clock). */
interface Expiring<T> {
  value: T;
  until: number;
}

/** Bound of each bookkeeping map (fences, locks, tag versions); evicting from any of them is safe. */
const MAX_RECORDS = 100_000;

/**
 * In-process {@link CacheStore}: the only store in L1-only mode (no Redis) and the
 * reference implementation of the store contract. Every map is bounded. Evicting a fence
 * rejects the in-flight write, evicting a lock may let a second computation run (fenced),
 * and evicting a tag version invalidates the entries stamped with it: all safe.
 * Values are kept by reference: treat cached values as immutable.
 */
export class MemoryStore implements CacheStore {
  private readonly entries: BoundedEntries;
  private readonly fences = new LRUCache<string, Expiring<number>>({ max: MAX_RECORDS });
  private readonly locks = new LRUCache<string, Expiring<string>>({ max: MAX_RECORDS });
  private readonly tags = new LRUCache<string, Expiring<number>>({ max: MAX_RECORDS });
  private lastVersion = 0;

  constructor(
    options: L1Options = {},
    private readonly clock: CacheClock = systemClock,
  ) {
    this.entries = new BoundedEntries({ ...DEFAULT_L1_OPTIONS, ...options });
  }

  fenceClock(): Promise<number> {
    return Promise.resolve(Math.floor(this.clock.now() * 1_000));
  }

  async get(id: string): Promise<CacheEntry | undefined> {
    const entry = this.entries.get(id);
    if (entry && this.clock.now() >= entry.staleUntil) {
      this.entries.delete(id);
      return undefined;
    }
    return entry;
  }

  async write(id: string, entry: CacheEntry, expectFence?: number): Promise<boolean> {
    if (this.live(this.fences.get(id)) !== entry.fence) return false;
    if (expectFence !== undefined && (await this.get(id))?.fence !== expectFence) return false;
    if (this.clock.now() >= entry.staleUntil) return true; // accepted, but already dead: nothing to keep
    this.entries.set(id, entry, entrySize(entry));
    return true;
  }

  async invalidateAll(fenceTtlMs: number): Promise<void> {
    for (const id of new Set([...this.entries.ids(), ...this.locks.keys()])) await this.invalidate(id, fenceTtlMs);
  }

  async invalidate(id: string, fenceTtlMs: number): Promise<number> {
    this.entries.delete(id);
    this.locks.delete(id);
    return this.issueFence(id, fenceTtlMs);
  }

  async tryLock(id: string, token: string, ttlMs: number, fenceTtlMs: number): Promise<LockAttempt> {
    const now = this.clock.now();
    const held = this.locks.get(id);
    if (held && held.until > now) return { acquired: false, remainingMs: held.until - now };
    this.locks.set(id, { value: token, until: now + ttlMs });
    return { acquired: true, fence: this.issueFence(id, fenceTtlMs) };
  }

  async renewLock(id: string, token: string, ttlMs: number): Promise<boolean> {
    const held = this.locks.get(id);
    if (this.live(held) !== token) return false;
    this.locks.set(id, { value: token, until: this.clock.now() + ttlMs });
    return true;
  }

  async unlock(id: string, token: string): Promise<boolean> {
    if (this.live(this.locks.get(id)) !== token) return false;
    this.locks.delete(id);
    return true;
  }

  async tagVersions(tags: string[], options: TagReadOptions): Promise<Record<string, number | undefined>> {
    const versions: Record<string, number | undefined> = {};
    for (const tag of new Set(tags)) {
      let version = this.live(this.tags.get(tag));
      if (options.create) {
        version ??= options.createAt ?? this.nextVersion();
        const until = Math.max(this.tags.get(tag)?.until ?? 0, this.clock.now() + (options.ttlMs ?? 0));
        this.tags.set(tag, { value: version, until });
      }
      versions[tag] = version;
    }
    return versions;
  }

  async keepTags(tags: string[], ttlMs: number): Promise<void> {
    for (const tag of new Set(tags)) {
      const record = this.tags.get(tag);
      if (this.live(record) !== undefined)
        this.tags.set(tag, { value: record!.value, until: Math.max(record!.until, this.clock.now() + ttlMs) });
    }
  }

  async bumpTags(tags: string[], ttlMs: number): Promise<Record<string, number>> {
    const versions: Record<string, number> = {};
    for (const tag of new Set(tags)) {
      const until = Math.max(this.tags.get(tag)?.until ?? 0, this.clock.now() + ttlMs);
      versions[tag] = this.nextVersion();
      this.tags.set(tag, { value: versions[tag], until });
    }
    return versions;
  }

  /** Entries and bytes held (diagnostics, memory tests). */
  get usage(): BoundedEntries['usage'] {
    return this.entries.usage;
  }

  private issueFence(id: string, ttlMs: number): number {
    const fence = this.nextVersion();
    this.fences.set(id, { value: fence, until: this.clock.now() + ttlMs });
    return fence;
  }

  /** Microseconds of the clock, strictly increasing across every fence and tag version of this store. */
  private nextVersion(): number {
    this.lastVersion = Math.max(Math.floor(this.clock.now() * 1_000), this.lastVersion + 1);
    return this.lastVersion;
  }

  private live<T>(record: Expiring<T> | undefined): T | undefined {
    return record && record.until > this.clock.now() ? record.value : undefined;
  }
}
