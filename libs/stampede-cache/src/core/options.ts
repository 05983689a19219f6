import type { Cluster, Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import type { CacheClock } from './clock';
import { CacheOptionsError } from './errors';

/** Per-entry tuning; every field is in milliseconds except `beta` and `jitter`. */
export interface CacheEntryOptions {
  /** Logical lifetime of a computed value. Default 60_000. */
  ttl?: number;
  /** XFetch eagerness (see README); 1 is the paper's optimum, 0 disables early refresh. Default 1. */
  beta?: number;
  /** How long after `ttl` an expired value is kept to be served as stale (fail-safe). Default 300_000. */
  staleTtl?: number;
  /**
   * Lease of the cross-instance lock. The holder renews it every `lockTtl / 3` while its
   * factory runs, so this is how soon another instance takes over from a holder that died.
   * Default 3_000.
   */
  lockTtl?: number;
  /** With a stale value at hand, stop waiting for the factory after this long and serve stale. Default: off. */
  softTimeout?: number;
  /** Upper bound of every call; the factory's AbortSignal fires at this point. Default 10_000. */
  hardTimeout?: number;
  /** Fraction (0..1) by which ttl is randomly shortened, so keys written together do not expire together. Default 0. */
  jitter?: number;
  /** After a failed refresh, no instance calls the factory for this key again for this long (stale is served). Default 5_000. */
  failSafeBackoff?: number;
  /** Lifetime of a negative result (see `isNegative`), instead of `ttl`; never served stale. Default 5_000. */
  negativeTtl?: number;
}

/** Options of one `getOrCompute` call. */
export interface GetOrComputeOptions<T = unknown> extends CacheEntryOptions {
  /**
   * Tags for `invalidateTags`. An array is stamped before the factory runs, so an
   * invalidation during the computation always wins. A function of the value is stamped
   * after it, and the value is not cached when one of its tags changed during the computation.
   */
  tags?: string[] | ((value: T) => string[]);
  /** Marks a negative result (e.g. "no such user"): cached for `negativeTtl` under a separate L1 bound. */
  isNegative?: (value: T) => boolean;
  /** The `cache` label on metrics. Default `'default'`. */
  cache?: string;
  /** Ignore any cached value and recompute (the old value remains the fail-safe fallback). */
  forceRefresh?: boolean;
  /** Treat values computed before this epoch-ms instant as expired ("refresh if older than X"). */
  minComputedAt?: number;
}

/** The in-process level (L1), or the only store in L1-only mode. */
export interface L1Options {
  /** Most entries kept. Default 10_000. */
  maxEntries?: number;
  /** Most bytes kept (JSON size of the values). Default 33_554_432 (32 MiB). */
  maxBytes?: number;
  /** Most negative results kept, apart from the rest so a flood of unknown ids cannot evict real values. Default 1_000. */
  maxNegativeEntries?: number;
  /**
   * With Redis: how long L1 may keep serving after this instance last heard its own
   * heartbeat on the invalidation channel. An instance that cannot reach Redis cannot hear
   * invalidations, so after this bound it serves from Redis or the origin only; and an
   * `invalidate` waits at most this long for other instances to confirm. Default 3_000.
   */
  trustWindowMs?: number;
}

/** Options of `StampedeCacheModule.forRoot` (and of `StampedeCache.create`). */
export interface StampedeCacheModuleOptions {
  /**
   * Redis URL, or an ioredis client / Cluster you own (the module then only closes the
   * subscriber connection it duplicates from it). Absent: in-process only (L1-only mode).
   */
  redis?: string | Redis | Cluster;
  /** Prefix of every Redis key and channel; letters, digits, `_ . -` only. Default `'sc'`. */
  namespace?: string;
  /** The in-process level. */
  l1?: L1Options;
  /** Defaults for every entry, overridable per call. */
  defaults?: CacheEntryOptions;
  /** Randomness for XFetch and jitter, in (0, 1]; injectable for deterministic tests. Default `Math.random`. */
  random?: () => number;
  /** Time and timers; injectable for deterministic tests. Default: the system clock. */
  clock?: CacheClock;
  /** prom-client registry the metrics are registered in. Default: a new Registry, exposed as `StampedeCache.registry`. */
  registry?: Registry;
  /** Redis circuit breaker. */
  circuitBreaker?: {
    /** Consecutive Redis failures that open the breaker. Default 5. */
    failureThreshold?: number;
    /** Time the breaker stays open before one probe is let through. Default 5_000. */
    resetTimeoutMs?: number;
  };
  /** Bound of one Redis operation, so a hung connection degrades to a miss instead of a stall. Default 500. */
  redisTimeoutMs?: number;
  /**
   * URL of the connection used for SUBSCRIBE, when `redis` is a URL (default: the same URL).
   * A seam for tests that cut or delay the command and subscriber links independently.
   */
  redisSubscriber?: string;
  /** Invalidations kept while Redis is unreachable, replayed when it answers again; beyond it everything is invalidated. Default 1_000. */
  maxPendingInvalidations?: number;
}

/** Entry options after defaults are applied. */
export type ResolvedEntryOptions = Required<Omit<CacheEntryOptions, 'softTimeout'>> & { softTimeout?: number };

/** Library defaults; see the README for the reasoning behind each. */
export const DEFAULT_ENTRY_OPTIONS: ResolvedEntryOptions = {
  ttl: 60_000,
  beta: 1,
  staleTtl: 300_000,
  lockTtl: 3_000,
  softTimeout: undefined,
  hardTimeout: 10_000,
  jitter: 0,
  failSafeBackoff: 5_000,
  negativeTtl: 5_000,
};

/** L1 defaults. */
export const DEFAULT_L1_OPTIONS: Required<L1Options> = {
  maxEntries: 10_000,
  maxBytes: 32 * 1024 * 1024,
  maxNegativeEntries: 1_000,
  trustWindowMs: 3_000,
};

/** Merges call options over module defaults over library defaults and validates the result. */
export function resolveEntryOptions(...layers: Array<CacheEntryOptions | undefined>): ResolvedEntryOptions {
  const resolved: ResolvedEntryOptions = { ...DEFAULT_ENTRY_OPTIONS };
  for (const layer of layers) {
    for (const [name, value] of Object.entries(layer ?? {})) {
      if (value !== undefined && name in DEFAULT_ENTRY_OPTIONS) (resolved as unknown as Record<string, number>)[name] = value as number;
    }
  }
  for (const name of ['ttl', 'staleTtl', 'lockTtl', 'hardTimeout', 'failSafeBackoff', 'beta', 'negativeTtl'] as const) {
    if (!Number.isFinite(resolved[name]) || resolved[name] < 0) throw new CacheOptionsError(`${name} must be a finite number >= 0`);
  }
  if (resolved.ttl === 0 || resolved.lockTtl === 0 || resolved.hardTimeout === 0 || resolved.negativeTtl === 0) {
    throw new CacheOptionsError('ttl, negativeTtl, lockTtl and hardTimeout must be > 0');
  }
  if (resolved.jitter < 0 || resolved.jitter >= 1) throw new CacheOptionsError('jitter must be in [0, 1)');
  return resolved;
}

/** L1 options over their defaults, validated. */
export function resolveL1Options(options: L1Options = {}): Required<L1Options> {
  const resolved = { ...DEFAULT_L1_OPTIONS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) };
  for (const [name, value] of Object.entries(resolved)) {
    if (!Number.isInteger(value) || value < 1) throw new CacheOptionsError(`l1.${name} must be an integer >= 1`);
  }
  return resolved;
}

/** Validates the namespace: it is concatenated into Redis keys, so no key syntax is allowed in it. */
export function resolveNamespace(namespace: string | undefined): string {
  const value = namespace ?? 'sc';
  if (!/^[A-Za-z0-9_.-]+$/.test(value)) {
    throw new CacheOptionsError(`namespace "${value}" may only contain letters, digits, "_", "." and "-"`);
  }
  return value;
}
