import type { StampedeCache } from '../stampede-cache.service';

/**
 * The most recently initialised cache, for `@CachedQuery` handlers that were not bound
 * to a cache by the module's explorer (e.g. handlers constructed by hand). With several
 * Nest apps in one process the explorer's per-instance binding takes precedence.
 */
let current: StampedeCache | undefined;

export const defaultCache = {
  get: (): StampedeCache | undefined => current,
  set(cache: StampedeCache): void {
    current = cache;
  },
  /** Forgets `cache` only if it is still the default, so shutting down an old app does not unset a newer one. */
  release(cache: StampedeCache): void {
    if (current === cache) current = undefined;
  },
};
