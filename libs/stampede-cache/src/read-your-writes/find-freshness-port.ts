import type { ModuleRef } from '@nestjs/core';
import { CacheOptionsError } from '../core/errors';
import { CACHE_FRESHNESS_PORT, type FreshnessPort, type QueryFreshness } from './freshness';

/** The app's {@link FreshnessPort}, provided anywhere in the app under {@link CACHE_FRESHNESS_PORT}; undefined when none is. */
export function findFreshnessPort(moduleRef: ModuleRef): FreshnessPort | undefined {
  try {
    return moduleRef.get<FreshnessPort>(CACHE_FRESHNESS_PORT, { strict: false });
  } catch {
    return undefined;
  }
}

/** Fails start-up when a handler declares `freshness` in an app that provides no port: better than a 500 on the first fresh read. */
export function requirePortFor(
  handler: string,
  freshness: QueryFreshness<unknown, unknown> | undefined,
  port: FreshnessPort | undefined,
): void {
  if (freshness && !port) throw new CacheOptionsError(`${handler} declares freshness but the app provides no CACHE_FRESHNESS_PORT`);
}
