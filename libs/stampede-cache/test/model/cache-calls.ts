import type { CacheClock } from '../../src/core/clock';
import type { CircuitState } from '../../src/redis/circuit-breaker';
import type { GetOrComputeOptions, StampedeCacheModuleOptions } from '../../src/core/options';
import type { StampedeCache } from '../../src/core/stampede-cache.service';

/** The keys the model reads; two, so tag invalidations of the shared tag hit more than one. */
export const KEYS = ['k1', 'k2'] as const;
export type Key = (typeof KEYS)[number];
/** Every entry carries it: `invalidateTags([SHARED_TAG])` supersedes every key. */
export const SHARED_TAG = 'shared';
export const keyTag = (key: Key): string => `tag:${key}`;

/** Bounds of the instances under test; small so that faults, expiry and trust lapses all happen within one run. */
export const TRUST_WINDOW_MS = 200;
export const REDIS_TIMEOUT_MS = 100;
export const LOCK_TTL_MS = 1_500;
export const HARD_TIMEOUT_MS = 2_500;

/** What the origin answers: the key's version, and whether the test marks it a negative result ("not found"). */
export interface Value {
  key: Key;
  version: number;
  negative: boolean;
  /** The instance whose factory computed it (its clock stamped `computedAt`). */
  by: number;
}

/** How a factory behaves: answers at once, waits for the test to release it, or fails. */
export type FactoryKind = 'fast' | 'slow' | 'fail';

/** One read as the model issues it, on any instance, in any process. */
export interface ReadRequest {
  key: Key;
  /** `force`: forceRefresh; `min`: minComputedAt = the instance's now (read-your-writes readers). */
  mode: 'plain' | 'force' | 'min';
  /** Static tags (stamped before computing) or value-derived tags (stamped after). */
  tagsForm: 'static' | 'derived';
  ttl: number;
  beta: number;
  softTimeout?: number;
  kind: FactoryKind;
}

/** What a read came to: a value and its status, or an error code (errors break no promise). */
export type ReadAnswer = { ok: true; version: number; by: number; status: string } | { ok: false; code: string };
/** What an invalidation came to: returned, or the code it threw. */
export type InvalidationAnswer = { ok: true } | { ok: false; code: string };

/** What a factory tells the model when it starts: the breaker as its read saw it and as it is now. */
export interface FactoryStart {
  circuitAtRead: CircuitState;
  circuitAtStart: CircuitState;
  signal: AbortSignal;
}

/** The module options of every instance: command and subscriber links through their own proxies. */
export function cacheOptions(command: string, subscriber: string, namespace: string, clock?: CacheClock): StampedeCacheModuleOptions {
  return {
    redis: command,
    redisSubscriber: subscriber,
    namespace,
    clock,
    redisTimeoutMs: REDIS_TIMEOUT_MS,
    // High enough that one read on a silent link (L2 get, lock, re-check) does not open it alone: a
    // lock attempt that timed out then meets a closed breaker, which is when it must not count as acquired.
    circuitBreaker: { failureThreshold: 8, resetTimeoutMs: 150 },
    l1: { trustWindowMs: TRUST_WINDOW_MS },
    defaults: { lockTtl: LOCK_TTL_MS, hardTimeout: HARD_TIMEOUT_MS, negativeTtl: 300, failSafeBackoff: 300, staleTtl: 2_000 },
  };
}

/** A system clock whose wall-clock readings are `offsetMs` off (another machine's clock); durations are unaffected. */
export function offsetClock(offsetMs: number): CacheClock {
  return {
    now: () => Date.now() + offsetMs,
    monotonic: () => performance.now(),
    setTimer(callback, ms) {
      const timer = setTimeout(callback, Math.max(0, ms));
      timer.unref();
      return { cancel: () => clearTimeout(timer) };
    },
  };
}

/** Runs one model read on `cache`; `factory` is the origin behind it. */
export async function runRead(
  cache: StampedeCache,
  request: ReadRequest,
  now: number,
  factory: (start: FactoryStart) => Promise<Value>,
): Promise<ReadAnswer> {
  const circuitAtRead = cache.circuitState;
  const tags = [SHARED_TAG, keyTag(request.key)];
  const options: GetOrComputeOptions<Value> = {
    ttl: request.ttl,
    beta: request.beta,
    softTimeout: request.softTimeout,
    tags: request.tagsForm === 'static' ? tags : (value) => [SHARED_TAG, keyTag(value.key)],
    isNegative: (value) => value.negative,
    forceRefresh: request.mode === 'force' || undefined,
    minComputedAt: request.mode === 'min' ? now : undefined,
  };
  try {
    const result = await cache.getOrComputeWithStatus(
      request.key,
      ({ signal }) => factory({ circuitAtRead, circuitAtStart: cache.circuitState, signal }),
      options,
    );
    return { ok: true, version: result.value.version, by: result.value.by, status: result.status };
  } catch (error) {
    return { ok: false, code: codeOf(error) };
  }
}

/** Runs an invalidation and reports whether it returned. */
export async function runInvalidation(call: () => Promise<void>): Promise<InvalidationAnswer> {
  try {
    await call();
    return { ok: true };
  } catch (error) {
    return { ok: false, code: codeOf(error) };
  }
}

function codeOf(error: unknown): string {
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'string' ? code : String(error);
}
