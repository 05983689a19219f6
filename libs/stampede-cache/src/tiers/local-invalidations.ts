import { LRUCache } from 'lru-cache';
import { ALL_TAG } from './pending-invalidations';

/**
 * When this instance last applied an invalidation of each key and tag, as a local
 * sequence number, so that a read never joins an in-process computation that started
 * before an invalidation of what it computes. Bounded: a forgotten record raises the
 * floor, which makes older computations count as superseded (safe, only less sharing).
 */
export class LocalInvalidations {
  private seq = 0;
  private floor = 0;
  private readonly last = new LRUCache<string, number>({
    max: 50_000,
    dispose: (value, _key, reason) => {
      if (reason === 'evict') this.floor = Math.max(this.floor, value);
    },
  });

  /** The current sequence number, taken when a computation starts. */
  now(): number {
    return this.seq;
  }

  key(id: string): void {
    this.last.set(`k:${id}`, ++this.seq);
  }

  tags(tags: string[]): void {
    const seq = ++this.seq;
    for (const tag of tags) this.last.set(`t:${tag}`, seq);
  }

  /** Invalidations may have been missed: everything started before now counts as superseded. */
  reset(): void {
    this.floor = ++this.seq;
  }

  /**
   * Whether an invalidation of `id` or of one of `tags` itself (not a reset) was applied after
   * `since`: a computation that started before is certainly useless. Unknown tags: no.
   */
  invalidatedSince(since: number, id: string, tags: string[] | undefined): boolean {
    if ((this.last.get(`k:${id}`) ?? 0) > since) return true;
    return tags !== undefined && [...tags, ALL_TAG].some((tag) => (this.last.get(`t:${tag}`) ?? 0) > since);
  }

  /**
   * Whether an invalidation of `id` or of one of `tags` was applied after `since`; with
   * `tags` undefined (they depend on the value) any invalidation counts.
   */
  changedSince(since: number, id: string, tags: string[] | undefined): boolean {
    if (this.floor > since || (this.last.get(`k:${id}`) ?? 0) > since) return true;
    if (tags === undefined) return this.seq > since;
    return [...tags, ALL_TAG].some((tag) => (this.last.get(`t:${tag}`) ?? 0) > since);
  }
}
