import { ALL_TAG } from './pending-invalidations';

/**
 * Who wants to know when a tag is invalidated: computations in flight stamped with it. A
 * tag invalidation makes such a computation useless (its result will not be cached), so it
 * gives up the lock at once instead of making the key's waiters wait for it.
 */
export class TagWatchers {
  private readonly watchers = new Map<string, Set<() => void>>();

  /** Calls `onInvalidated` once when one of `tags` is invalidated, until the returned stop is called. */
  watch(tags: string[], onInvalidated: () => void): () => void {
    let fired = false;
    const watcher = () => {
      if (!fired) onInvalidated();
      fired = true;
    };
    for (const tag of tags) this.watchers.set(tag, (this.watchers.get(tag) ?? new Set()).add(watcher));
    return () => {
      for (const tag of tags) {
        const set = this.watchers.get(tag);
        set?.delete(watcher);
        if (set?.size === 0) this.watchers.delete(tag);
      }
    };
  }

  /** Tags were invalidated (here, or heard from another instance); {@link ALL_TAG} reaches everyone. */
  invalidated(tags: string[]): void {
    const sets = tags.includes(ALL_TAG) ? [...this.watchers.values()] : tags.map((tag) => this.watchers.get(tag));
    for (const watcher of sets.flatMap((set) => [...(set ?? [])])) watcher();
  }
}
