import type { Cluster, Redis } from 'ioredis';
import type { CacheEntry, CacheStore, LockAttempt, TagReadOptions } from '../stores/cache-store';
import { systemClock, type CacheClock } from '../core/clock';
import { NotARedisFailure } from './redis-guard';
import {
  BUMP_TAG,
  FENCE_CLOCK,
  FENCED_WRITE,
  INVALIDATE,
  KEEP_TAG,
  RENEW_LOCK,
  STAMP_TAG,
  TRY_LOCK,
  UNLOCK,
  type LuaScript,
} from './redis-scripts';

/**
 * {@link CacheStore} on Redis or Redis Cluster.
 *
 * Key layout (namespace `sc`, key id `users?id=1`, tag `user:1`):
 * - entry `sc:{users?id=1}` = `<fence>|<json>`, its lock `sc:{users?id=1}:lock` and its
 *   latest fence `sc:{users?id=1}:fence`: the `{...}` hash tag puts all three in one slot;
 * - tag version `sc:tag:{user%3A1}`: a key per tag with a TTL, so tags of entries that
 *   no longer exist disappear by themselves.
 * The entry's physical TTL is `staleUntil - now`.
 */
export class RedisStore implements CacheStore {
  constructor(
    private readonly client: Redis | Cluster,
    private readonly namespace = 'sc',
    private readonly clock: CacheClock = systemClock,
  ) {}

  /** The Redis key of an entry; exposed for tests and diagnostics. */
  entryKey(id: string): string {
    return `${this.namespace}:{${id}}`;
  }

  /** The Redis key of an entry's lock (same hash slot as the entry). */
  lockKey(id: string): string {
    return `${this.entryKey(id)}:lock`;
  }

  /** The Redis key of an entry's latest fence (same hash slot as the entry). */
  fenceKey(id: string): string {
    return `${this.entryKey(id)}:fence`;
  }

  /** The Redis key of a tag's version. */
  tagKey(tag: string): string {
    return `${this.namespace}:tag:{${encodeURIComponent(tag)}}`;
  }

  async fenceClock(id: string): Promise<number> {
    return Number(await this.run(FENCE_CLOCK, [this.fenceKey(id)], []));
  }

  async get(id: string): Promise<CacheEntry | undefined> {
    const raw = await this.client.get(this.entryKey(id));
    if (raw === null) return undefined;
    const entry = JSON.parse(raw.slice(raw.indexOf('|') + 1)) as CacheEntry;
    return this.clock.now() >= entry.staleUntil ? undefined : entry;
  }

  async write(id: string, entry: CacheEntry, expectFence?: number): Promise<boolean> {
    const ttlMs = Math.ceil(entry.staleUntil - this.clock.now());
    const payload = `${entry.fence}|${serialize(entry)}`;
    const keys = [this.entryKey(id), this.fenceKey(id)];
    const args = [String(entry.fence), payload, String(Math.max(1, ttlMs)), expectFence === undefined ? '' : String(expectFence)];
    return Number(await this.run(FENCED_WRITE, keys, args)) === 1;
  }

  async invalidate(id: string, fenceTtlMs: number): Promise<number> {
    return Number(await this.run(INVALIDATE, [this.entryKey(id), this.fenceKey(id), this.lockKey(id)], [String(Math.ceil(fenceTtlMs))]));
  }

  async invalidateAll(fenceTtlMs: number): Promise<void> {
    const nodes = (this.client as Cluster).isCluster ? (this.client as Cluster).nodes('master') : [this.client as Redis];
    const prefix = `${this.namespace}:{`;
    for (const node of nodes) {
      for (let cursor = '0'; ;) {
        const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1_000);
        // entry `ns:{id}`, lock `ns:{id}:lock`, fence `ns:{id}:fence`: one invalidation per id.
        const ids = new Set(keys.map((key) => key.slice(prefix.length, key.lastIndexOf('}'))));
        await Promise.all([...ids].map((id) => this.invalidate(id, fenceTtlMs)));
        cursor = next;
        if (cursor === '0') break;
      }
    }
  }

  async tryLock(id: string, token: string, ttlMs: number, fenceTtlMs: number): Promise<LockAttempt> {
    const lockTtl = Math.max(1, Math.ceil(ttlMs));
    const [acquired, value] = (await this.run(
      TRY_LOCK,
      [this.lockKey(id), this.fenceKey(id)],
      [token, String(lockTtl), String(Math.ceil(fenceTtlMs))],
    )) as [number, string | number];
    if (Number(acquired) === 1) return { acquired: true, fence: Number(value) };
    const remaining = Number(value);
    // -2: released between SET and PTTL (retry at once); -1: a lock without expiry (assume a full ttl).
    return { acquired: false, remainingMs: remaining === -1 ? lockTtl : Math.max(0, remaining) };
  }

  async renewLock(id: string, token: string, ttlMs: number): Promise<boolean> {
    return Number(await this.run(RENEW_LOCK, [this.lockKey(id)], [token, String(Math.max(1, Math.ceil(ttlMs)))])) === 1;
  }

  async unlock(id: string, token: string): Promise<boolean> {
    return Number(await this.run(UNLOCK, [this.lockKey(id)], [token])) === 1;
  }

  async tagVersions(tags: string[], options: TagReadOptions): Promise<Record<string, number | undefined>> {
    const unique = [...new Set(tags)];
    // One command per tag: in a Cluster the tags live in different slots.
    const replies = await Promise.all(
      unique.map((tag) =>
        options.create
          ? this.run(
              STAMP_TAG,
              [this.tagKey(tag)],
              [String(Math.max(1, Math.ceil(options.ttlMs ?? 1))), options.createAt === undefined ? '' : String(options.createAt)],
            )
          : this.client.get(this.tagKey(tag)),
      ),
    );
    return Object.fromEntries(
      unique.map((tag, i) => [tag, replies[i] === null || replies[i] === undefined ? undefined : Number(replies[i])]),
    );
  }

  async keepTags(tags: string[], ttlMs: number): Promise<void> {
    await Promise.all([...new Set(tags)].map((tag) => this.run(KEEP_TAG, [this.tagKey(tag)], [String(Math.max(1, Math.ceil(ttlMs)))])));
  }

  async bumpTags(tags: string[], ttlMs: number): Promise<Record<string, number>> {
    const unique = [...new Set(tags)];
    const versions = await Promise.all(unique.map((tag) => this.run(BUMP_TAG, [this.tagKey(tag)], [String(Math.ceil(ttlMs))])));
    return Object.fromEntries(unique.map((tag, i) => [tag, Number(versions[i])]));
  }

  /** EVALSHA, falling back to EVAL when the server does not have the script cached yet. */
  private async run(script: LuaScript, keys: string[], args: string[]): Promise<unknown> {
    try {
      return await this.client.evalsha(script.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!String((error as Error).message).includes('NOSCRIPT')) throw error;
      return this.client.eval(script.lua, keys.length, ...keys, ...args);
    }
  }
}

/** An entry whose value JSON cannot represent is the caller's problem, not Redis's: never a breaker failure. */
function serialize(entry: CacheEntry): string {
  try {
    return JSON.stringify(entry);
  } catch (error) {
    throw new NotARedisFailure(`value not JSON-serialisable: ${(error as Error).message}`);
  }
}
