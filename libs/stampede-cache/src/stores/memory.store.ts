import { LRUCache } from 'lru-cache';
import type { CacheEntry, CacheStore, LockAttempt } from './cache-store';

interface HeldLock {
  token: string;
  expiresAt: number;
}

/**
 * In-process {@link CacheStore} on an LRU. Used as the only store in L1-only mode (no
 * Redis) and as the reference implementation of the store contract. Values are kept by
 * reference: treat cached values as immutable.
 */
export class MemoryStore implements CacheStore {
  private readonly entries: LRUCache<string, CacheEntry>;
  private readonly locks = new Map<string, HeldLock>();
  private readonly tags = new Map<string, number>();

  constructor(options: { maxEntries?: number } = {}) {
    this.entries = new LRUCache({ max: options.maxEntries ?? 10_000 });
  }

  async get(id: string): Promise<CacheEntry | undefined> {
    const entry = this.entries.get(id);
    if (entry && Date.now() >= entry.staleUntil) {
      this.entries.delete(id);
      return undefined;
    }
    return entry;
  }

  async set(id: string, entry: CacheEntry): Promise<void> {
    if (Date.now() >= entry.staleUntil) return;
    this.entries.set(id, entry);
  }

  async delete(id: string): Promise<void> {
    this.entries.delete(id);
  }

  async tryLock(id: string, token: string, ttlMs: number): Promise<LockAttempt> {
    const now = Date.now();
    const held = this.locks.get(id);
    if (held && held.expiresAt > now) return { acquired: false, remainingMs: held.expiresAt - now };
    this.locks.set(id, { token, expiresAt: now + ttlMs });
    return { acquired: true };
  }

  async unlock(id: string, token: string): Promise<boolean> {
    const held = this.locks.get(id);
    if (!held || held.token !== token || held.expiresAt <= Date.now()) return false;
    this.locks.delete(id);
    return true;
  }

  async tagVersions(tags: string[]): Promise<Record<string, number>> {
    return Object.fromEntries(tags.map((tag) => [tag, this.tags.get(tag) ?? 0]));
  }

  async bumpTags(tags: string[]): Promise<void> {
    for (const tag of new Set(tags)) this.tags.set(tag, (this.tags.get(tag) ?? 0) + 1);
  }
}
