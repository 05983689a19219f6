import { Inject } from '@nestjs/common';
import { QueryHandler } from '@nestjs/cqrs';
import { EVENT_STORE_HANDLE, type EventStoreHandle } from '@app/event-store';
import { buildCacheKey, CachedQuery, type CachedQueryHandler } from '@app/stampede-cache';
import { AppConfig } from '../../../config/app-config';
import { fromReadModel, readModelOf } from '../../../read-side/read-model';
import { userProfilesProjection, userTag } from '../../projections/user-profiles.projection';
import { GetUserQuery } from './get-user.query';
import type { UserView } from './user.view';

/** The cache key of a user's view; an erasure deletes it (`ErasedUserCache`). */
export const userCacheKey = (userId: string) => buildCacheKey('user', { id: userId });

/**
 * A profile, or its absence (a negative result: cached briefly, dropped by the projection's
 * tag on registration), and the checkpoint it reflects.
 */
export interface UserProfileRead {
  user: UserView | null;
  /** The user was erased: the read model keeps only that fact (410 Gone). */
  erased?: boolean;
  position: number;
}

/** The checkpoint and, when the user exists, the profile (bigints arrive as strings). */
type ProfileRow = { checkpoint: string } & (
  | { user_id: string; erased: boolean; first_name: string; last_name: string; email: string; points: string; version: number }
  | { user_id: null }
);

/**
 * Loads a profile from the user_profiles read model. Caching (tagged `user:<id>`, so the
 * projection's commits invalidate it on every instance) and read-your-writes happen at
 * the query bus, declared here.
 */
@QueryHandler(GetUserQuery)
@CachedQuery<GetUserQuery, UserProfileRead, GetUserHandler>({
  key: (query) => userCacheKey(query.userId),
  tags: (query) => [userTag(query.userId)],
  isNegative: (read) => read.user === null,
  freshness: readModelOf(userProfilesProjection),
  entryOptions: (handler) => ({ ttl: handler.config.USER_CACHE_TTL_MS }),
  cache: 'user',
})
export class GetUserHandler implements CachedQueryHandler<GetUserQuery, UserProfileRead> {
  constructor(
    @Inject(EVENT_STORE_HANDLE) private readonly es: EventStoreHandle,
    @Inject(AppConfig) readonly config: AppConfig,
  ) {}

  /** Row and checkpoint in one statement, so they come from one snapshot. */
  async execute({ userId }: GetUserQuery): Promise<UserProfileRead> {
    const table = (name: string) => this.es.projections.tableName(name);
    const query = `SELECT c.position AS checkpoint, p.*
         FROM ${table('projections')} c LEFT JOIN ${table('user_profiles')} p ON p.user_id = $1
        WHERE c.name = $2`;
    const [row] = await fromReadModel(() => this.es.dataSource.query<ProfileRow[]>(query, [userId, userProfilesProjection.name]), []);
    if (!row) return { user: null, position: 0 };
    if (row.user_id && row.erased) return { user: null, erased: true, position: Number(row.checkpoint) };
    const user = row.user_id
      ? {
          id: row.user_id,
          firstName: row.first_name,
          lastName: row.last_name,
          email: row.email,
          points: Number(row.points),
          version: row.version,
        }
      : null;
    return { user, position: Number(row.checkpoint) };
  }
}
