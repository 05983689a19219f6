import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { Counter, type Registry } from 'prom-client';
import { ProjectionsService, type ProjectionCommit } from '@app/event-store';
import { CacheInvalidationPendingError, StampedeCache } from '@app/stampede-cache';
import { METRICS_REGISTRY } from '../metrics/metrics.registry';

/** Why a projection commit's invalidation did not complete: the `reason` label of `cache_invalidation_failures_total`. */
export type InvalidationFailureReason = 'pending' | 'error';

/** Tags named in one log line; a batch can touch thousands of users. */
const TAGS_LOGGED = 5;

/**
 * Invalidates cache tags when a projection commits a change (on whichever
 * instance runs it; the cache fans the invalidation out to every instance).
 * Invalidating at append time instead would let a reader re-cache the old
 * read model before the projection has caught up.
 *
 * An invalidation that does not complete is counted in
 * `cache_invalidation_failures_total{reason}` and logged. It is not retried here: the
 * cache keeps a pending one and replays it itself when Redis answers again, and a second
 * retry loop would only race that replay.
 */
@Injectable()
export class ProjectionCacheInvalidation implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('CacheInvalidation');
  private readonly failures: Counter<'reason'>;
  private unsubscribe?: () => void;

  constructor(
    private readonly projections: ProjectionsService,
    private readonly cache: StampedeCache,
    @Inject(METRICS_REGISTRY) registry: Registry,
  ) {
    this.failures = new Counter({
      name: 'cache_invalidation_failures_total',
      help: 'Cache invalidations after a projection commit that did not complete (pending: kept and replayed by the cache once Redis answers; error: anything else)',
      labelNames: ['reason'],
      registers: [registry],
    });
    // Both series exist from the start, so increase() and alerts see the first failure.
    for (const reason of ['pending', 'error'] as const) this.failures.inc({ reason }, 0);
  }

  onModuleInit(): void {
    // A rebuild switch commits the tag `projection:<name>`, which every value read from it carries (`readModelOf`).
    this.unsubscribe = this.projections.onCommit((commit) => {
      if (commit.tags.length === 0) return;
      this.cache.invalidateTags(commit.tags).catch((e: unknown) => this.failed(commit, e));
    });
  }

  onApplicationShutdown(): void {
    this.unsubscribe?.();
  }

  private failed({ projection, position, tags }: ProjectionCommit, error: unknown): void {
    const reason: InvalidationFailureReason = error instanceof CacheInvalidationPendingError ? 'pending' : 'error';
    this.failures.inc({ reason });
    const what = `cache invalidation of ${describeTags(tags)} after ${projection} committed position ${position}`;
    if (reason === 'pending') {
      // Other instances may serve the superseded values until the replay: an operator reading this needs to know both.
      this.logger.warn(
        `${what} is pending (Redis did not take it); the cache replays it on every instance when Redis answers again, other instances may serve the old values until then`,
      );
    } else {
      this.logger.error(
        `${what} failed and the cache did not keep it pending: other instances may serve the old values until their TTL ends (${error instanceof Error ? error.message : String(error)})`,
        error instanceof Error ? error.stack : undefined,
      );
    }
  }
}

function describeTags(tags: string[]): string {
  const named = tags.slice(0, TAGS_LOGGED).join(', ');
  return tags.length > TAGS_LOGGED ? `${tags.length} tags (${named}, …)` : `tags ${named}`;
}
