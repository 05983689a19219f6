import type { Projection, RecordedEvent, Queryable, TableNames } from '@app/event-store';
import { PointsAwarded, UserErased, UserRegistered, UserRenamed } from '../users/events';
import { USER_EVENT_TYPES } from '../users/events/event-types';
import { userIdOf } from '../users/user-stream';

/** Cache tag of every leaderboard answer. */
export const LEADERBOARD_TAG = 'leaderboard';

/**
 * The points ledger the trending leaderboard aggregates: one row per award
 * (keyed by its log position, so a replay cannot double-count) plus the
 * names to show, kept in the same projection so both share one checkpoint. An erased user's
 * name row is deleted (their awards stay, under their id only).
 */
export const pointsLedgerProjection: Projection = {
  name: 'points_ledger',
  version: 1,
  handles: USER_EVENT_TYPES,
  tables: ['points_ledger', 'ledger_names'],

  async createTables(sql: Queryable, t: TableNames) {
    await sql.query(`CREATE TABLE ${t.points_ledger} (
      position   bigint PRIMARY KEY,
      user_id    text NOT NULL,
      points     integer NOT NULL,
      awarded_at timestamptz NOT NULL
    )`);
    await sql.query(`CREATE INDEX ON ${t.points_ledger} (awarded_at) INCLUDE (user_id, points)`);
    await sql.query(`CREATE TABLE ${t.ledger_names} (
      user_id    text PRIMARY KEY,
      first_name text NOT NULL,
      last_name  text NOT NULL
    )`);
  },

  async apply(events: RecordedEvent[], sql: Queryable, t: TableNames) {
    const awards = events.filter((e): e is RecordedEvent<PointsAwarded> => e.data instanceof PointsAwarded);
    const names = new Map<string, { firstName: string; lastName: string }>();
    const erased: string[] = [];
    for (const e of events) {
      if (e.data instanceof UserRegistered || e.data instanceof UserRenamed) {
        names.set(userIdOf(e.streamId), { firstName: e.data.firstName, lastName: e.data.lastName });
      } else if (e.data instanceof UserErased) {
        names.delete(userIdOf(e.streamId));
        erased.push(userIdOf(e.streamId));
      }
    }
    if (erased.length) await sql.query(`DELETE FROM ${t.ledger_names} WHERE user_id = ANY($1::text[])`, [erased]);
    if (names.size) {
      await sql.query(
        `INSERT INTO ${t.ledger_names} (user_id, first_name, last_name)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[])
         ON CONFLICT (user_id) DO UPDATE SET first_name = EXCLUDED.first_name, last_name = EXCLUDED.last_name`,
        [[...names.keys()], [...names.values()].map((n) => n.firstName), [...names.values()].map((n) => n.lastName)],
      );
    }
    if (awards.length) {
      await sql.query(
        `INSERT INTO ${t.points_ledger} (position, user_id, points, awarded_at)
         SELECT * FROM unnest($1::bigint[], $2::text[], $3::int[], $4::timestamptz[])`,
        [
          awards.map((e) => e.position),
          awards.map((e) => userIdOf(e.streamId)),
          awards.map((e) => e.data.points),
          awards.map((e) => e.data.awardedAt),
        ],
      );
    }
    return awards.length || names.size || erased.length ? [LEADERBOARD_TAG] : [];
  },
};
