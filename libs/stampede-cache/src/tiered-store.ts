import { LRUCache } from 'lru-cache';
import { CircuitBreaker } from './circuit-breaker';
import type { CacheEvent, CacheEvents } from './redis/cache-events';
import type { CacheEntry, CacheStore, LockAttempt } from './stores/cache-store';
import { withTimeout } from './timing';

/**
 * L1 (in-process LRU, optional) in front of L2 (a {@link CacheStore}, normally Redis).
 * Every L2 call goes through the circuit breaker and a timeout and answers a fallback
 * on failure, so Redis problems degrade to misses and local-only locks, never errors.
 */
export class TieredStore {
  private events?: CacheEvents;

  constructor(
    private readonly l2: CacheStore,
    private readonly l1: LRUCache<string, CacheEntry> | undefined,
    readonly breaker: CircuitBreaker,
    private readonly l2TimeoutMs: number,
  ) {}

  /** Connects pub/sub; without it (L1-only mode) nothing is published. */
  attachEvents(events: CacheEvents): void {
    this.events = events;
  }

  /** L1 first, then L2; tag-invalidated and physically expired entries count as absent. */
  async read(id: string): Promise<CacheEntry | undefined> {
    const local = this.l1?.get(id);
    if (local && Date.now() < local.staleUntil) return local;
    if (local) this.l1?.delete(id);
    return this.readL2(id);
  }

  /** Skips L1: used to re-check after a lock or a wait, when L1 may hold an older copy. */
  async readL2(id: string): Promise<CacheEntry | undefined> {
    const entry = await this.guard(() => this.l2.get(id), undefined);
    if (!entry || Date.now() >= entry.staleUntil) return undefined;
    if (entry.tags && !(await this.tagsCurrent(entry.tags))) return undefined;
    this.l1?.set(id, entry);
    return entry;
  }

  /** Writes both levels and tells other instances (waiters wake, L1 copies drop). */
  async write(id: string, entry: CacheEntry): Promise<void> {
    this.l1?.set(id, entry);
    await this.guard(() => this.l2.set(id, entry), undefined);
    await this.publish({ kind: 'written', id });
  }

  async remove(id: string): Promise<void> {
    this.l1?.delete(id);
    await this.guard(() => this.l2.delete(id), undefined);
    await this.publish({ kind: 'deleted', id });
  }

  async invalidateTags(tags: string[]): Promise<void> {
    await this.guard(() => this.l2.bumpTags(tags), undefined);
    this.dropLocalTags(tags);
    await this.publish({ kind: 'tags', tags });
  }

  /** With Redis unreachable the lock degrades to "granted": in-process single flight still holds. */
  tryLock(id: string, token: string, ttlMs: number): Promise<LockAttempt> {
    return this.guard(() => this.l2.tryLock(id, token, ttlMs), { acquired: true } as LockAttempt);
  }

  unlock(id: string, token: string): Promise<boolean> {
    return this.guard(() => this.l2.unlock(id, token), false);
  }

  /**
   * Versions to stamp on a new entry. When L2 cannot answer, each tag gets version -1,
   * which never matches: the entry still lives in L1 (and drops on tag invalidation
   * there) but is never trusted from L2.
   */
  async stampTags(tags: string[]): Promise<Record<string, number> | undefined> {
    if (tags.length === 0) return undefined;
    const versions = await this.guard(() => this.l2.tagVersions(tags), undefined);
    return versions ?? Object.fromEntries(tags.map((tag) => [tag, -1]));
  }

  /** Waits for another instance's write of `id`; resolves false at once when there is no pub/sub. */
  waitForWrite(id: string, timeoutMs: number): { promise: Promise<boolean>; cancel: () => void } {
    return this.events?.waitForWrite(id, timeoutMs) ?? { promise: Promise.resolve(false), cancel: () => undefined };
  }

  /** Applies another instance's event to L1. */
  applyRemoteEvent(event: CacheEvent): void {
    if (event.kind === 'tags') this.dropLocalTags(event.tags);
    else this.l1?.delete(event.id);
  }

  /** Drops all of L1, e.g. after an outage during which invalidation messages were lost. */
  clearLocal(): void {
    this.l1?.clear();
  }

  private dropLocalTags(tags: string[]): void {
    if (!this.l1) return;
    const dropped = new Set(tags);
    for (const [id, entry] of this.l1.entries()) {
      if (entry.tags && Object.keys(entry.tags).some((tag) => dropped.has(tag))) this.l1.delete(id);
    }
  }

  private async tagsCurrent(stamped: Record<string, number>): Promise<boolean> {
    const current = await this.guard(() => this.l2.tagVersions(Object.keys(stamped)), undefined);
    // Unknown versions (Redis failing) count as invalid: better a recompute than a wrongly kept value.
    return current !== undefined && Object.entries(stamped).every(([tag, version]) => current[tag] === version);
  }

  private async publish(event: Parameters<CacheEvents['publish']>[0]): Promise<void> {
    const events = this.events;
    if (events) await this.guard(() => events.publish(event), undefined);
  }

  private guard<T>(operation: () => Promise<T>, fallback: T): Promise<T> {
    return this.breaker.run(() => withTimeout(operation(), this.l2TimeoutMs, () => new Error('L2 timeout')), fallback);
  }
}
