import type { CacheClock, CacheTimer } from '../core/clock';

/** The tag every entry carries; bumping it invalidates everything in the namespace. */
export const ALL_TAG = '*';

/**
 * Invalidations that could not reach Redis, to be replayed when it answers again (an
 * invalidation that did not happen in Redis would let other instances keep serving the
 * superseded values). Bounded: beyond `max` distinct keys and tags it keeps only "all",
 * and the replay invalidates the whole namespace. While anything is pending, `probe` (a
 * Redis call through the circuit breaker, whose recovery replays them) runs every `periodMs`,
 * so the replay does not wait for traffic.
 */
export class PendingInvalidations {
  private keys = new Set<string>();
  private tags = new Set<string>();
  private everything = false;
  private replaying = false;
  private timer?: CacheTimer;

  constructor(
    private readonly max: number,
    private readonly clock: CacheClock,
    private readonly periodMs: number,
    private readonly probe: () => Promise<unknown>,
  ) {}

  get size(): number {
    return this.everything ? 1 : this.keys.size + this.tags.size;
  }

  addKey(id: string): void {
    if (!this.everything) this.keys.add(id);
    this.bound();
  }

  addTags(tags: string[]): void {
    if (!this.everything) for (const tag of tags) this.tags.add(tag);
    this.bound();
  }

  /**
   * Whether reads of this key (or of an entry stamped with these tags) must skip L1 and L2:
   * an invalidation of it is owed, so what either level holds may be superseded.
   */
  affects(id: string, tags?: Record<string, number>): boolean {
    if (this.everything || this.keys.has(id)) return true;
    if (this.tags.size === 0 || !tags) return false;
    for (const tag in tags) if (this.tags.has(tag)) return true;
    return false;
  }

  /** What is pending now (everything: the {@link ALL_TAG}); still counted until {@link done}. */
  snapshot(): { keys: string[]; tags: string[] } {
    return this.everything ? { keys: [], tags: [ALL_TAG] } : { keys: [...this.keys], tags: [...this.tags] };
  }

  /** Forgets what a replay delivered; what was added meanwhile stays. */
  done(delivered: { keys: string[]; tags: string[] }): void {
    if (delivered.tags.includes(ALL_TAG)) this.everything = false;
    for (const id of delivered.keys) this.keys.delete(id);
    for (const tag of delivered.tags) this.tags.delete(tag);
  }

  /**
   * Delivers what is owed now through `deliver` (one replay at a time) and forgets what it
   * delivered; a failed delivery keeps everything for the next attempt.
   */
  async replay(deliver: (owed: { keys: string[]; tags: string[] }) => Promise<void>): Promise<void> {
    const owed = this.snapshot();
    if (this.replaying || owed.keys.length + owed.tags.length === 0) return;
    this.replaying = true;
    try {
      await deliver(owed);
      this.done(owed);
    } catch {
      // Still failing: what is left stays pending (a failed delivery re-added it).
    } finally {
      this.replaying = false;
    }
  }

  stop(): void {
    this.timer?.cancel();
  }

  private schedule(): void {
    if (this.timer || this.size === 0) return;
    this.timer = this.clock.setTimer(() => {
      this.timer = undefined;
      void this.probe()
        .catch(() => undefined) // a failed probe is a round without recovery: the next one follows all the same
        .then(() => this.schedule());
    }, this.periodMs);
  }

  private bound(): void {
    this.schedule();
    if (this.tags.has(ALL_TAG) || this.keys.size + this.tags.size > this.max) {
      this.everything = true;
      this.keys.clear();
      this.tags.clear();
    }
  }
}
