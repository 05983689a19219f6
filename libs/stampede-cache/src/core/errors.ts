/**
 * Library errors. Plain classes with a stable string `code` so the app's
 * exception filter can map them (the library knows nothing of HTTP).
 */

/** Base class of every error this library throws; switch on `code`, not on the class. */
export abstract class StampedeCacheError extends Error {
  /** Stable, machine-readable identifier, e.g. `CACHE.FACTORY_TIMEOUT`. */
  abstract readonly code: string;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The factory (or the wait for another instance's factory) exceeded `hardTimeout` and no stale value existed. */
export class CacheFactoryTimeoutError extends StampedeCacheError {
  readonly code = 'CACHE.FACTORY_TIMEOUT' as const;

  constructor(
    readonly key: string,
    readonly timeoutMs: number,
  ) {
    super(`Computing cache key "${key}" took longer than ${timeoutMs} ms and no stale value was available`);
  }
}

/** The factory threw and no stale value existed; the original error is in `cause`. */
export class CacheFactoryFailedError extends StampedeCacheError {
  readonly code = 'CACHE.FACTORY_FAILED' as const;

  constructor(
    readonly key: string,
    cause: unknown,
  ) {
    super(`Computing cache key "${key}" failed and no stale value was available`, { cause });
  }
}

/** A key input could not be normalised (e.g. NaN, an empty namespace part). */
export class CacheKeyError extends StampedeCacheError {
  readonly code = 'CACHE.INVALID_KEY' as const;
}

/** Module or call options are inconsistent (e.g. a negative ttl, a namespace with Redis key syntax). */
export class CacheOptionsError extends StampedeCacheError {
  readonly code = 'CACHE.INVALID_OPTIONS' as const;
}

/**
 * Redis could not be reached, so the invalidation happened on this instance only. It is
 * kept and replayed when Redis answers again; until then other instances may still serve
 * the old value, which is why this is an error rather than a silent success.
 */
export class CacheInvalidationPendingError extends StampedeCacheError {
  readonly code = 'CACHE.INVALIDATION_PENDING' as const;

  constructor() {
    super('Redis is unreachable: the invalidation is applied on this instance and will be replayed on every instance once Redis answers');
  }
}

/** The failure another instance's factory reported for a key this caller waited for (message and code kept). */
export class RemoteFactoryError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'RemoteFactoryError';
  }
}
