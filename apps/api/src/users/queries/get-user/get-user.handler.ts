import { Inject } from '@nestjs/common';
import { QueryHandler } from '@nestjs/cqrs';
import { EVENT_STORE_HANDLE, type EventStoreHandle } from '@app/event-store';
import { buildCacheKey, CachedQuery, type CachedQueryHandler } from '@app/stampede-cache';
import { AppConfig } from '../../../config/app-config';
import { fromReadModel, readModelOf } from '../../../read-side/read-model';
import { userProfilesProjection, userTag } from '../../projections/user-profiles.projection';
import { GetUserQuery } from './get-user.query';
import type { UserProfileRead } from './user-profile.read';
import type { PublicUserView, UserView, UserViewScope } from './user.view';

/** The cache key of a user's view in `scope`; an erasure deletes both (`ErasedUserCache`). */
export const userCacheKey = (userId: string, scope: UserViewScope) => buildCacheKey('user', { id: userId, view: scope });

/** The checkpoint and, when the user exists, the profile (bigints arrive as strings). */
type ProfileRow = { checkpoint: string } & (
  | { user_id: string; erased: boolean; first_name: string; last_name: string; email: string; points: string; version: number }
  | { user_id: null }
);

/**
 * Loads a profile from the user_profiles read model, in the query's view. Caching and
 * read-your-writes happen at the query bus, declared here: each view has a key of its own
 * (the public entry never holds the email), and both carry the tag `user:<id>`, so the
 * projection's commits invalidate both on every instance.
 */
@QueryHandler(GetUserQuery)
@CachedQuery<GetUserQuery, UserProfileRead, GetUserHandler>({
  key: (query) => userCacheKey(query.userId, query.scope),
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
  async execute({ userId, scope }: GetUserQuery): Promise<UserProfileRead> {
    const table = (name: string) => this.es.projections.tableName(name);
    const query = `SELECT c.position AS checkpoint, p.*
         FROM ${table('projections')} c LEFT JOIN ${table('user_profiles')} p ON p.user_id = $1
        WHERE c.name = $2`;
    const [row] = await fromReadModel(() => this.es.db.query<ProfileRow>(query, [userId, userProfilesProjection.name]), []);
    if (!row) return { user: null, position: 0 };
    if (row.user_id && row.erased) return { user: null, erased: true, position: Number(row.checkpoint) };
    const user = row.user_id ? toView(row, scope) : null;
    return { user, position: Number(row.checkpoint) };
  }
}

/** The row as the view `scope` shows it; the public view does not carry the email at all. */
function toView(row: ProfileRow & { user_id: string }, scope: UserViewScope): UserView | PublicUserView {
  const { user_id: id, first_name: firstName, last_name: lastName, email, version } = row;
  const points = Number(row.points);
  return scope === 'private' ? { id, firstName, lastName, email, points, version } : { id, firstName, lastName, points, version };
}
