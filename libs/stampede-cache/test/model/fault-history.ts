/**
 * How long after a link is healed (or Redis is back) its client may still be reconnecting:
 * ioredis retries with a backoff of up to 2 s (redis-connections.ts), so a "healed" link is
 * not yet a working one, and a breaker may open and close again meanwhile.
 */
const RECONNECT_GRACE_MS = 2_500;
/** The same after a Redis restart of at most 400 ms: the clients' backoff is still short (100 ms more per attempt). */
const RESTART_GRACE_MS = 1_000;
/** How soon after an instance can reach Redis again its owed invalidations have been replayed (a breaker period and then some). */
const REPLAY_MARGIN_MS = 500;

/**
 * When each instance's command link (or its process) was in trouble, when Redis restarted,
 * and when each key was last invalidated: what the model needs to know whether a lock that
 * an instance took is certainly still its own (see {@link Origin}). Times are the test
 * process's `Date.now()`.
 */
export class FaultHistory {
  /** Per instance: the last time its command link or its process was not healthy (Infinity while it is not). */
  private readonly troubleUntil: number[];
  /** Per instance: the last time anything about its command link or its process changed. */
  private readonly changedAt: number[];
  private redisTroubleUntil = Number.NEGATIVE_INFINITY;
  private redisChangedAt = Number.NEGATIVE_INFINITY;
  private readonly keyInvalidatedAt = new Map<string, number>();
  /** Per instance: keys whose invalidation threw there, and which its replay may still break the lock of. */
  private readonly owedKeys = new Map<number, Set<string>>();

  constructor(instances: number) {
    this.troubleUntil = Array.from({ length: instances }, () => Number.NEGATIVE_INFINITY);
    this.changedAt = Array.from({ length: instances }, () => Number.NEGATIVE_INFINITY);
  }

  /**
   * The instance's command link was faulted (healthy: false) or healed (healthy: true) now;
   * `reconnects`: the healed link had been cut, so its client is still reconnecting for a while.
   */
  commandLink(instance: number, healthy: boolean, reconnects = false): void {
    const settled = Date.now() + (reconnects ? RECONNECT_GRACE_MS : 0);
    this.troubleUntil[instance] = healthy ? settled : Number.POSITIVE_INFINITY;
    this.changedAt[instance] = Math.max(this.changedAt[instance], healthy ? settled : Date.now());
    // Back in touch with Redis: what it owes is replayed (and bytes a frozen link held are delivered) from now on.
    if (healthy) for (const key of this.owedKeys.get(instance) ?? []) this.breaksLockUntil(key, settled + REPLAY_MARGIN_MS);
  }

  /** The test saw the instance hear its own heartbeats with its breaker closed: its command link works again now. */
  confirmedHealthy(instance: number): void {
    if (this.troubleUntil[instance] === Number.POSITIVE_INFINITY) return;
    this.troubleUntil[instance] = Math.min(this.troubleUntil[instance], Date.now());
    this.changedAt[instance] = Math.min(this.changedAt[instance], Date.now());
  }

  /** The instance's process was stalled from now for `ms` (its lease may lapse, its timers fire late). */
  stalled(instance: number, ms: number): void {
    const until = Date.now() + ms;
    this.troubleUntil[instance] = Math.max(this.troubleUntil[instance], until);
    this.changedAt[instance] = Math.max(this.changedAt[instance], until);
  }

  redisDown(): void {
    this.redisTroubleUntil = Number.POSITIVE_INFINITY;
    this.redisChangedAt = Math.max(this.redisChangedAt, Date.now());
  }

  redisUp(): void {
    const settled = Date.now() + RESTART_GRACE_MS;
    this.redisTroubleUntil = settled;
    this.redisChangedAt = settled;
    for (const keys of this.owedKeys.values()) for (const key of keys) this.breaksLockUntil(key, settled + REPLAY_MARGIN_MS);
  }

  /**
   * An invalidation of the key started on `instance` (it breaks the key's lock when it runs in
   * Redis); `owed`: it threw, so it may also run later: when its bytes, held by a frozen link,
   * arrive, or when it is replayed once the instance reaches Redis again.
   */
  keyInvalidated(key: string, instance: number, owed = false): void {
    this.breaksLockUntil(key, Date.now() + (owed ? REPLAY_MARGIN_MS : 0));
    if (!owed) return;
    const keys = this.owedKeys.get(instance) ?? new Set<string>();
    this.owedKeys.set(instance, keys.add(key));
  }

  private breaksLockUntil(key: string, at: number): void {
    this.keyInvalidatedAt.set(key, Math.max(this.keyInvalidatedAt.get(key) ?? Number.NEGATIVE_INFINITY, at));
  }

  /**
   * Whether a lock the instance took for `key` after `since` is certainly still held: its
   * command link and process stayed healthy (it took it for real and renewed it), Redis did not
   * restart (losing it), and no invalidation of the key broke it.
   */
  lockSurelyHeld(instance: number, key: string, since: number): boolean {
    return this.troubleUntil[instance] < since && this.redisTroubleUntil < since && (this.keyInvalidatedAt.get(key) ?? -Infinity) < since;
  }

  /** Whether nothing about the instance's command link, process or Redis changed since `since`. */
  steadySince(instance: number, since: number): boolean {
    // <=: a fault applied in the same millisecond as the read began was there before it.
    return this.changedAt[instance] <= since && this.redisChangedAt <= since;
  }
}
