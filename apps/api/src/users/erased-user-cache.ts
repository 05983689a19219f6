import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { ProjectionsService } from '@app/event-store';
import { StampedeCache } from '@app/stampede-cache';
import { userCacheKey } from './queries/get-user/get-user.handler';
import { USER_VIEW_SCOPES } from './queries/get-user/user.view';
import { erasedUserOf } from './projections/user-profiles.projection';

/**
 * Deletes the cached views of an erased user, on every instance, once the `user_profiles`
 * projection has committed the erasure (its commit carries `user-erased:<id>`). A tag
 * invalidation alone would leave the old value, with the person's name and email, in Redis
 * until it expired; deleting the key after the commit means the next read caches the
 * erased state. Runs on the instance that runs the projection; a deletion Redis does not
 * take is kept pending by the cache and replayed when Redis answers.
 */
@Injectable()
export class ErasedUserCache implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('ErasedUserCache');
  private unsubscribe?: () => void;

  constructor(
    private readonly projections: ProjectionsService,
    private readonly cache: StampedeCache,
  ) {}

  onModuleInit(): void {
    this.unsubscribe = this.projections.onCommit(({ tags }) => {
      for (const tag of tags) {
        const userId = erasedUserOf(tag);
        if (userId === undefined) continue;
        for (const scope of USER_VIEW_SCOPES) {
          this.cache.invalidate(userCacheKey(userId, scope)).catch((e: unknown) => {
            this.logger.warn(`deleting the cached ${scope} view of erased user ${userId} did not complete: ${(e as Error)?.message ?? e}`);
          });
        }
      }
    });
  }

  onApplicationShutdown(): void {
    this.unsubscribe?.();
  }
}
