import { Logger } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import type Redis from 'ioredis';

/** What the guard needs of one hit (the package does not export this type from its index). */
type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

/**
 * Fixed window per key: the first hit starts the window (PEXPIRE), every hit counts.
 * Atomic in Redis, so every instance counts against the same window.
 */
const HIT = `
local hits = redis.call('INCR', KEYS[1])
if hits == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return { hits, ttl }`;

/** Let the request through: Redis did not answer. */
const OPEN: ThrottlerStorageRecord = { totalHits: 0, timeToExpire: 0, isBlocked: false, timeToBlockExpire: 0 };

/**
 * `@nestjs/throttler` storage in Redis, shared by all instances. Fails open: when Redis
 * is down or slow (the client's command timeout, 250 ms), the hit is not counted and the
 * request goes through, because refusing writes for a cache outage would be worse than
 * not limiting them for a while.
 */
export class RedisThrottlerStorage implements ThrottlerStorage {
  private readonly logger = new Logger('RateLimit');
  private lastWarning = 0;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  async increment(key: string, ttl: number, limit: number): Promise<ThrottlerStorageRecord> {
    try {
      const [hits, ttlMs] = (await this.redis.eval(HIT, 1, `${this.prefix}${key}`, String(ttl))) as [number, number];
      const seconds = Math.max(1, Math.ceil(ttlMs / 1000));
      const isBlocked = hits > limit;
      return { totalHits: hits, timeToExpire: seconds, isBlocked, timeToBlockExpire: isBlocked ? seconds : 0 };
    } catch (error) {
      if (Date.now() - this.lastWarning > 30_000) {
        this.lastWarning = Date.now();
        this.logger.warn(`rate limit not applied, Redis did not answer: ${(error as Error).message}`);
      }
      return OPEN;
    }
  }
}
