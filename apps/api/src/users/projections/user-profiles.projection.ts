import type { Projection, RecordedEvent, Queryable, TableNames } from '@app/event-store';
import { PointsAwarded, UserErased, UserRegistered, UserRenamed } from '../events';
import { USER_EVENT_TYPES } from '../events/event-types';
import { userIdOf } from '../user-stream';

/** Cache tag of everything derived from one user. */
export const userTag = (userId: string) => `user:${userId}`;
const ERASED_PREFIX = 'user-erased:';

/** Tag a commit carries when it erased a user: the cached views of that user are deleted, not only invalidated. */
export const erasedUserTag = (userId: string) => `${ERASED_PREFIX}${userId}`;

/** The user an {@link erasedUserTag} names; undefined for any other tag. */
export const erasedUserOf = (tag: string): string | undefined =>
  tag.startsWith(ERASED_PREFIX) ? tag.slice(ERASED_PREFIX.length) : undefined;

interface ProfileChange {
  userId: string;
  /** Registered in this batch: inserted, not updated. */
  registered: boolean;
  /** Erased in this batch: names and email are dropped. */
  erased: boolean;
  firstName: string | null;
  lastName: string | null;
  email: string | null;
  pointsDelta: number;
  version: number;
  position: number;
}

/**
 * Read model of user profiles (names, email, points, stream version). An erased user keeps
 * a row with `erased` set and no names or email (so reads can answer 410 Gone); whatever a
 * replay reads for them before the erasure (markers) is dropped with it. Folds a
 * batch per user in memory, then writes one INSERT (new users) and one
 * UPDATE (known users) for the whole batch. A rename or award for a user
 * never registered cannot be applied and stops the projection at that event
 * (a poison event), by design.
 */
export const userProfilesProjection: Projection = {
  name: 'user_profiles',
  // v2: erased users (nullable personal columns, `erased`).
  version: 2,
  handles: USER_EVENT_TYPES,
  tables: ['user_profiles'],

  async createTables(sql: Queryable, t: TableNames) {
    await sql.query(`CREATE TABLE ${t.user_profiles} (
      user_id    text PRIMARY KEY,
      first_name text,
      last_name  text,
      email      text,
      erased     boolean NOT NULL DEFAULT false,
      points     bigint NOT NULL,
      version    integer NOT NULL,
      position   bigint NOT NULL
    )`);
  },

  async apply(events: RecordedEvent[], sql: Queryable, t: TableNames) {
    const changes = new Map<string, ProfileChange>();
    for (const e of events) {
      const userId = userIdOf(e.streamId);
      const c = changes.get(userId) ?? {
        userId,
        registered: false,
        erased: false,
        firstName: null,
        lastName: null,
        email: null,
        pointsDelta: 0,
        version: 0,
        position: 0,
      };
      if (e.data instanceof UserRegistered)
        Object.assign(c, { registered: true, firstName: e.data.firstName, lastName: e.data.lastName, email: e.data.email });
      else if (e.data instanceof UserRenamed) Object.assign(c, { firstName: e.data.firstName, lastName: e.data.lastName });
      else if (e.data instanceof PointsAwarded) c.pointsDelta += e.data.points;
      else if (e.data instanceof UserErased) Object.assign(c, { erased: true, firstName: null, lastName: null, email: null });
      c.version = e.streamVersion;
      c.position = e.position;
      changes.set(userId, c);
    }
    const rows = [...changes.values()];
    const columns = (list: ProfileChange[]) => [
      list.map((r) => r.userId),
      list.map((r) => r.firstName),
      list.map((r) => r.lastName),
      list.map((r) => r.email),
      list.map((r) => r.pointsDelta),
      list.map((r) => r.version),
      list.map((r) => r.position),
      list.map((r) => r.erased),
    ];
    const registered = rows.filter((r) => r.registered);
    const existing = rows.filter((r) => !r.registered);
    if (registered.length) {
      await sql.query(
        `INSERT INTO ${t.user_profiles} (user_id, first_name, last_name, email, points, version, position, erased)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::int[], $7::bigint[], $8::boolean[])`,
        columns(registered),
      );
    }
    if (existing.length) {
      const updated = await sql.execute(
        `UPDATE ${t.user_profiles} AS p SET
           first_name = CASE WHEN u.erased THEN NULL ELSE coalesce(u.first_name, p.first_name) END,
           last_name = CASE WHEN u.erased THEN NULL ELSE coalesce(u.last_name, p.last_name) END,
           email = CASE WHEN u.erased THEN NULL ELSE p.email END,
           erased = p.erased OR u.erased,
           points = p.points + u.points, version = u.version, position = u.position
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::int[], $7::bigint[], $8::boolean[])
              AS u(user_id, first_name, last_name, email, points, version, position, erased)
         WHERE p.user_id = u.user_id`,
        columns(existing),
      );
      // An event for a user that was never registered cannot be applied: stop here (poison event).
      if (updated !== existing.length) throw new Error('event for a user that was never registered');
    }
    return rows.flatMap((r) => (r.erased ? [userTag(r.userId), erasedUserTag(r.userId)] : [userTag(r.userId)]));
  },
};
