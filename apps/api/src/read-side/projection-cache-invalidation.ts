import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { ProjectionsService } from '@app/event-store';
import { StampedeCache } from '@app/stampede-cache';

/**
 * Invalidates cache tags when a projection commits a change (on whichever
 * instance runs it; the cache fans the invalidation out to every instance).
 * Invalidating at append time instead would let a reader re-cache the old
 * read model before the projection has caught up.
 */
@Injectable()
export class ProjectionCacheInvalidation implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('CacheInvalidation');
  private unsubscribe?: () => void;

  constructor(
    private readonly projections: ProjectionsService,
    private readonly cache: StampedeCache,
  ) {}

  onModuleInit(): void {
    // A rebuild switch commits the tag `projection:<name>`, which every value read from it carries (`readModelOf`).
    this.unsubscribe = this.projections.onCommit(({ tags }) => {
      if (tags.length === 0) return;
      this.cache.invalidateTags(tags).catch((e) => this.logger.warn(`invalidation failed: ${(e as Error).message}`));
    });
  }

  onApplicationShutdown(): void {
    this.unsubscribe?.();
  }
}
