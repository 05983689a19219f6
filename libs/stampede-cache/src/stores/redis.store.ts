import type { Cluster, Redis } from 'ioredis';
import type { CacheEntry, CacheStore, LockAttempt } from './cache-store';

/** Deletes the lock only if the caller's token still owns it, atomically. */
const COMPARE_AND_DELETE = `
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0`;

/** SET NX PX, and on contention the holder's remaining PTTL, in one round trip. */
const TRY_LOCK = `
if redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return -3
end
return redis.call('pttl', KEYS[1])`;

/**
 * {@link CacheStore} on Redis or Redis Cluster.
 *
 * Key layout (namespace `sc`, key id `users?id=1`):
 * - entry `sc:{users?id=1}` and lock `sc:{users?id=1}:lock`: the `{...}` hash tag puts
 *   both in the same Cluster slot;
 * - tag versions: one hash `sc:tags`, so reading many tags is a single HMGET on one slot.
 * Entries are JSON; the physical TTL is `staleUntil - now`.
 */
export class RedisStore implements CacheStore {
  constructor(
    private readonly client: Redis | Cluster,
    private readonly namespace = 'sc',
  ) {}

  /** The Redis key of an entry; exposed for tests and diagnostics. */
  entryKey(id: string): string {
    return `${this.namespace}:{${id}}`;
  }

  /** The Redis key of an entry's lock (same hash slot as the entry). */
  lockKey(id: string): string {
    return `${this.entryKey(id)}:lock`;
  }

  private get tagsKey(): string {
    return `${this.namespace}:tags`;
  }

  async get(id: string): Promise<CacheEntry | undefined> {
    const raw = await this.client.get(this.entryKey(id));
    if (raw === null) return undefined;
    const entry = JSON.parse(raw) as CacheEntry;
    return Date.now() >= entry.staleUntil ? undefined : entry;
  }

  async set(id: string, entry: CacheEntry): Promise<void> {
    const ttlMs = Math.ceil(entry.staleUntil - Date.now());
    if (ttlMs <= 0) return;
    await this.client.set(this.entryKey(id), JSON.stringify(entry), 'PX', ttlMs);
  }

  async delete(id: string): Promise<void> {
    await this.client.del(this.entryKey(id));
  }

  async tryLock(id: string, token: string, ttlMs: number): Promise<LockAttempt> {
    const lockTtl = Math.max(1, Math.ceil(ttlMs));
    const reply = Number(await this.client.eval(TRY_LOCK, 1, this.lockKey(id), token, lockTtl));
    if (reply === -3) return { acquired: true };
    // -2: released between SET and PTTL (retry at once); -1: a lock without expiry (assume a full ttl).
    return { acquired: false, remainingMs: reply === -1 ? lockTtl : Math.max(0, reply) };
  }

  async unlock(id: string, token: string): Promise<boolean> {
    const deleted = await this.client.eval(COMPARE_AND_DELETE, 1, this.lockKey(id), token);
    return deleted === 1;
  }

  async tagVersions(tags: string[]): Promise<Record<string, number>> {
    if (tags.length === 0) return {};
    const versions = await this.client.hmget(this.tagsKey, ...tags);
    return Object.fromEntries(tags.map((tag, i) => [tag, Number(versions[i] ?? 0)]));
  }

  async bumpTags(tags: string[]): Promise<void> {
    const unique = [...new Set(tags)];
    if (unique.length === 0) return;
    const transaction = this.client.multi();
    for (const tag of unique) transaction.hincrby(this.tagsKey, tag, 1);
    await transaction.exec();
  }
}
