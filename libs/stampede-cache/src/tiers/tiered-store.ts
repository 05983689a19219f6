import { randomUUID } from 'node:crypto';
import type { Logger } from '@nestjs/common';
import type { CircuitBreaker } from '../redis/circuit-breaker';
import type { CacheClock } from '../core/clock';
import { CacheInvalidationPendingError } from '../core/errors';
import type { L1Cache } from './l1/l1-cache';
import { entrySize } from '../stores/bounded-entries';
import { LockWaiters } from './lock-waiters';
import { TagWatchers } from './tag-watchers';
import { TieredLocks, type Lifetimes } from './tiered-locks';
export type { Lifetimes } from './tiered-locks';
import { LocalInvalidations } from './local-invalidations';
import { ALL_TAG, PendingInvalidations } from './pending-invalidations';
import type { CacheFeed } from '../redis/cache-feed';
import type { FeedMessage, InvalidationMessage } from '../redis/feed-messages';
import type { RedisGuard } from '../redis/redis-guard';
import type { CacheEntry, CacheStore, TagReadOptions } from '../stores/cache-store';
import { freezeValue } from './l1/frozen-values';

/** A key nobody writes: reading it is the cheapest way to ask whether Redis answers again. */
const PROBE_ID = 'stampede-cache:probe';

/**
 * L1 (optional, in front of Redis) and L2 (a {@link CacheStore}: Redis, or memory in
 * L1-only mode), joined so that every path keeps the consistency promise (README):
 * L2 writes are fenced, L1 only takes values that no known invalidation supersedes,
 * invalidations are applied here, in L2 and (acknowledged) on every instance before they
 * return. Every L2 call goes through the {@link RedisGuard}: a call with no reply in time has
 * an unknown outcome, never a success: a read is a miss, a write did not happen, an
 * invalidation is owed (dropped here at once, kept pending, replayed on the next success).
 */
export class TieredStore {
  private feed?: CacheFeed;
  private readonly pending: PendingInvalidations;
  /** Which invalidations this instance applied when: in-process computations started before them are not joined. */
  readonly local = new LocalInvalidations();
  /** Lock waiters of this instance, and the holder's outcomes published to every instance. */
  readonly lockWaiters: LockWaiters;
  readonly locks: TieredLocks;
  readonly tagWatchers = new TagWatchers();

  constructor(
    private readonly l2: CacheStore,
    private readonly l1: L1Cache | undefined,
    private readonly redis: RedisGuard,
    private readonly clock: CacheClock,
    private readonly lifetimes: Lifetimes,
    maxPending: number,
    private readonly logger: Logger,
  ) {
    // While invalidations are pending, Redis is probed every breaker period; any success replays them.
    const probe = () => this.redis.probe(() => this.l2.get(PROBE_ID));
    this.pending = new PendingInvalidations(maxPending, clock, redis.breaker.resetTimeoutMs, probe);
    this.lockWaiters = new LockWaiters(clock, (message) => this.publish(message));
    this.locks = new TieredLocks(l2, redis, lifetimes);
  }

  get breaker(): CircuitBreaker {
    return this.redis.breaker;
  }

  /** A computation may run this long: fences and bumped tags must outlive it. */
  noteComputation(longestMs: number): void {
    this.lifetimes.fenceTtlMs = Math.max(this.lifetimes.fenceTtlMs, longestMs + 5_000);
    this.lifetimes.tagTtlMs = Math.max(this.lifetimes.tagTtlMs, 2 * longestMs + 5_000);
  }

  /** Connects pub/sub; without it (L1-only mode) nothing is published. */
  attachFeed(feed: CacheFeed): void {
    this.feed = feed;
  }

  /** A value to serve: a current L1 entry, else a validated L2 entry (then also kept in L1). */
  async read(id: string): Promise<CacheEntry | undefined> {
    return this.readL1(id, this.clock.now()) ?? this.readL2(id);
  }

  /** The current, verified L1 entry, if any: synchronous, so an L1 hit needs no promise. */
  readL1(id: string, now: number): CacheEntry | undefined {
    const local = this.l1?.verifiedEntry(id);
    return local && now < local.staleUntil && !this.pending.affects(id, local.tags) ? local : undefined;
  }

  /** Skips L1: the entry in L2 if its tags are current (stale tags count as absent), and no invalidation of it is owed. */
  async readL2(id: string): Promise<CacheEntry | undefined> {
    if (this.pending.affects(id)) return undefined;
    const mark = this.l1?.mark() ?? 0;
    const entry = await this.redis.value(() => this.l2.get(id), undefined);
    if (!entry || this.clock.now() >= entry.staleUntil || this.pending.affects(id, entry.tags)) return undefined;
    if (!(await this.tagsCurrent(entry))) return undefined;
    freezeValue(entry);
    this.l1?.offer(id, entry, entrySize(entry), mark);
    return entry;
  }

  /**
   * Writes a computed (or fail-safe extended) entry: to L2 only with the key's latest fence,
   * then to L1 unless superseded, then tells other instances. With Redis unreachable the
   * value goes to L1 only (served there within the trust window at most).
   * @returns false when the write was fenced out (a newer value or an invalidation exists)
   */
  async write(id: string, entry: CacheEntry, mark: number, expectFence?: number): Promise<boolean> {
    const outcome = entry.fence === 0 ? undefined : await this.redis.run(() => this.l2.write(id, entry, expectFence));
    // An unknown outcome is not a write: the value stays local (and unpublished).
    const written = outcome?.ok ? outcome.value : undefined;
    if (written === false) return false;
    this.l1?.offer(id, entry, entrySize(entry), mark);
    this.lockWaiters.signal(id, { kind: 'written', fence: entry.fence });
    if (!written) return true;
    // Tags were stamped to outlive the computation; now they must outlive the entry (a short-lived negative, or a long ttl).
    const tags = Object.keys(entry.tags ?? {});
    const keep = tags.length ? this.redis.run(() => this.l2.keepTags(tags, entry.staleUntil - this.clock.now())) : undefined;
    await Promise.all([keep, this.publish({ k: 'written', id, fence: entry.fence })]);
    return true;
  }

  /** Taken before an L2 read or a computation; passed to {@link write}. */
  mark(): number {
    return this.l1?.mark() ?? 0;
  }

  /** @throws CacheInvalidationPendingError when Redis cannot be reached (replayed once it answers) */
  async invalidate(id: string, awaitAcks = true): Promise<void> {
    this.local.key(id);
    this.l1?.delete(id);
    const fence = await this.redis.value(() => this.l2.invalidate(id, this.lifetimes.fenceTtlMs), undefined);
    if (fence === undefined) return this.defer(() => this.pending.addKey(id));
    this.l1?.applyKeyInvalidation(id, fence);
    await this.announce({ k: 'deleted', id, fence, msg: randomUUID() }, () => this.pending.addKey(id), awaitAcks);
  }

  /**
   * `*` invalidates everything: every key with an entry or a lock (no tag is on every entry).
   * @throws CacheInvalidationPendingError when Redis cannot be reached (replayed once it answers)
   */
  async invalidateTags(tags: string[], awaitAcks = true): Promise<void> {
    this.local.tags(tags);
    this.tagWatchers.invalidated(tags);
    const all = tags.includes(ALL_TAG) ? () => this.l2.invalidateAll(this.lifetimes.fenceTtlMs) : () => Promise.resolve();
    const versions = await this.redis.value(
      () => this.l2.bumpTags(tags, this.lifetimes.tagTtlMs).then(async (v) => (await all(), v)),
      undefined,
    );
    // Not bumped (or unknown): this instance's own L1 and L2 reads of these tags are skipped until the replay.
    if (!versions) return this.defer(() => this.pending.addTags(tags));
    if (ALL_TAG in versions) this.forgetLocal();
    this.l1?.applyTags(versions);
    await this.announce({ k: 'tags', versions, msg: randomUUID() }, () => this.pending.addTags(tags), awaitAcks);
  }

  /**
   * Versions to stamp on a new entry; undefined when L2 cannot answer: such a value is
   * served to its callers but not cached. No tag is added to every entry (see invalidateAll).
   */
  async stampTags(tags: string[], options: Omit<TagReadOptions, 'create'>): Promise<Record<string, number> | undefined> {
    if (tags.length === 0) return {};
    const versions = await this.redis.value(() => this.l2.tagVersions(tags, { ...options, create: true }), undefined);
    if (!versions || Object.values(versions).some((version) => version === undefined)) return undefined;
    this.l1?.observe(versions);
    return versions as Record<string, number>;
  }

  /** Wakes every waiter (shutdown). */
  stop(): void {
    this.pending.stop();
    this.lockWaiters.stop();
  }

  /** Applies another instance's message to L1. */
  applyRemote(message: FeedMessage): void {
    if (message.k === 'tags') {
      this.local.tags(Object.keys(message.versions));
      this.tagWatchers.invalidated(Object.keys(message.versions));
      if (ALL_TAG in message.versions) this.forgetLocal(); // "everything": no tag on the entries says so
      this.l1?.applyTags(message.versions);
    } else if (message.k === 'deleted') {
      this.local.key(message.id);
      this.l1?.applyKeyInvalidation(message.id, message.fence);
    } else if (message.k === 'written') {
      this.l1?.applyWritten(message.id, message.fence); // also a floor: a slower read of an older value cannot come back
      this.lockWaiters.signal(message.id, { kind: 'written', fence: message.fence });
    } else if (message.k === 'failed') this.lockWaiters.signal(message.id, { kind: 'failed', reason: message.reason, code: message.code });
    else if (message.k === 'released') this.lockWaiters.signal(message.id, { kind: 'released' });
  }

  /** Invalidations may have been missed (subscription gap, Redis back after an outage): forget L1. */
  forgetLocal(): void {
    this.local.reset();
    this.l1?.reset();
  }

  /** Redis answers again after the breaker was open: forget L1 and replay the invalidations it missed. */
  async recover(): Promise<void> {
    this.forgetLocal();
    await this.pending.replay((owed) => this.deliver(owed));
  }

  /** A Redis call succeeded: replay what is owed now, whatever the breaker's state. */
  replaySoon(): void {
    if (this.pending.size > 0) void this.pending.replay((owed) => this.deliver(owed));
  }

  private async deliver(owed: { keys: string[]; tags: string[] }): Promise<void> {
    this.logger.log(`Redis answers again: replaying ${owed.keys.length} key and ${owed.tags.length} tag invalidation(s)`);
    // Nobody waits for a replay to return: applied in Redis and published, it is delivered (acks are not awaited).
    for (const id of owed.keys) await this.invalidate(id, false);
    if (owed.tags.length) await this.invalidateTags(owed.tags, false);
  }

  get pendingInvalidations(): number {
    return this.pending.size;
  }

  /** Publishes an applied invalidation and waits (bounded by the trust window) until every instance applied it. */
  private async announce(message: InvalidationMessage, onFailure: () => void, awaitAcks: boolean): Promise<void> {
    const feed = this.feed;
    if (!feed) return;
    const acks = feed.expectAcks(message.msg);
    if (!(await this.redis.value(() => feed.publish(message).then(() => true), false))) {
      acks.cancel();
      return this.defer(onFailure);
    }
    acks.published();
    if (!awaitAcks) return; // the acknowledgements settle by themselves, within the trust window
    if (!(await acks.promise)) this.logger.debug?.(`invalidation ${message.msg}: not every instance confirmed within the trust window`);
  }

  private defer(remember: () => void): never {
    remember();
    throw new CacheInvalidationPendingError();
  }

  private async tagsCurrent(entry: CacheEntry): Promise<boolean> {
    const stamped = entry.tags ?? {};
    const tags = Object.keys(stamped);
    if (tags.length === 0) return true;
    const current = await this.redis.value(() => this.l2.tagVersions(tags, { create: false }), undefined);
    // Unknown versions (Redis failing) count as invalid: better a recompute than a wrongly kept value.
    if (!current) return false;
    this.l1?.observe(current);
    return tags.every((tag) => current[tag] === stamped[tag]);
  }

  private async publish(message: Parameters<CacheFeed['publish']>[0]): Promise<void> {
    const feed = this.feed;
    if (feed) await this.redis.run(() => feed.publish(message));
  }
}
