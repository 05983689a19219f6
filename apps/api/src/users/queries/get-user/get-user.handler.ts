import { Inject } from '@nestjs/common';
import { IQueryHandler, QueryHandler } from '@nestjs/cqrs';
import { EVENT_STORE_HANDLE, type EventStoreHandle } from '@app/event-store';
import { StampedeCache } from '@app/stampede-cache';
import { AppConfig } from '../../../config/app-config';
import { FreshReads, type FreshReadResult } from '../../../read-side/fresh-read';
import { userProfilesProjection, userTag } from '../../projections/user-profiles.projection';
import { GetUserQuery } from './get-user.query';
import type { UserView } from './user.view';

/** A profile (or its absence, cached too: the projection's tag invalidates it on registration) and the checkpoint it reflects. */
export interface UserProfileRead {
  user: UserView | null;
  position: number;
}

/**
 * Reads the user_profiles projection through the stampede-proof cache,
 * tagged `user:<id>` so the projection's commits invalidate it everywhere.
 */
@QueryHandler(GetUserQuery)
export class GetUserHandler implements IQueryHandler<GetUserQuery, FreshReadResult<UserProfileRead>> {
  constructor(
    private readonly reads: FreshReads,
    private readonly cache: StampedeCache,
    @Inject(EVENT_STORE_HANDLE) private readonly es: EventStoreHandle,
    @Inject(AppConfig) private readonly config: AppConfig,
  ) {}

  execute({ userId, minPosition }: GetUserQuery): Promise<FreshReadResult<UserProfileRead>> {
    return this.reads.read({
      projection: userProfilesProjection.name,
      key: this.cache.buildKey('user', { id: userId }),
      ttl: this.config.USER_CACHE_TTL_MS,
      tags: [userTag(userId)],
      cache: 'user',
      minPosition,
      load: () => this.load(userId),
    });
  }

  /** Row and checkpoint in one statement, so they come from one snapshot. */
  private async load(userId: string): Promise<UserProfileRead> {
    const table = (name: string) => this.es.projections.tableName(name);
    const [row] = await this.es.dataSource.query(
      `SELECT c.position AS checkpoint, p.*
         FROM ${table('projections')} c LEFT JOIN ${table('user_profiles')} p ON p.user_id = $1
        WHERE c.name = $2`,
      [userId, userProfilesProjection.name],
    );
    if (!row) return { user: null, position: 0 };
    const user = row.user_id
      ? { id: row.user_id, firstName: row.first_name, lastName: row.last_name, email: row.email, points: Number(row.points), version: row.version }
      : null;
    return { user, position: Number(row.checkpoint) };
  }
}
