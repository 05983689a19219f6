import type { MigrationInterface, QueryRunner } from 'typeorm';
import { schemaOf } from '@app/event-store/migrations';
import { foldEmail } from '../users/email-fold';

const BATCH = 5000;

type ReservationRow = { email: string; user_id: string; position: string; source: string };

/**
 * Folds every reservation with the app's `foldEmail`. The backfill of
 * 1710000000001 folded with SQL `lower()`, which follows the database's locale
 * and differs from the app's JavaScript fold (`İ` is `i` under C.UTF-8, `i̇` in
 * JavaScript): a backfilled address could be registered again in another case.
 *
 * 1. Each reservation whose email is not the fold of its registration's address
 *    moves to the folded email; where that email is held already, the earlier
 *    registration (lower position) keeps it and the other is left to verify.
 * 2. Each registration's folded email no one holds is reserved for its earliest
 *    registration, in log order: addresses the SQL fold had merged, and imports
 *    whose separate reservation pass never ran.
 *
 * Safe on existing data and on a re-run: reservations only move to the app's
 * fold (which a second fold leaves unchanged) and missing ones are added; nothing
 * held by the right registration changes. Reads the stored JSON as 1710000000001
 * does (`data.email`, every `UserRegistered` version so far), in keyset batches.
 */
export class EmailFold1710000000003 implements MigrationInterface {
  name = 'EmailFold1710000000003';

  async up(q: QueryRunner): Promise<void> {
    const s = schemaOf(q);
    await moveUnfolded(q, s);
    await reserveMissing(q, s);
  }

  async down(): Promise<void> {
    // Nothing to undo: folded reservations are what every version of the app looks up.
  }
}

async function moveUnfolded(q: QueryRunner, s: string): Promise<void> {
  const moves: ReservationRow[] = [];
  for (let after = ''; ;) {
    const rows = (await q.query(
      `SELECT r.email, r.user_id, r.position::text AS position, e.data->>'email' AS source
         FROM ${s}.email_reservations r
         JOIN ${s}.events e ON e.position = r.position AND e.type = 'UserRegistered' AND e.stream_id = 'user-' || r.user_id
        WHERE r.email > $1 AND jsonb_typeof(e.data->'email') = 'string'
        ORDER BY r.email LIMIT ${BATCH}`,
      [after],
    )) as ReservationRow[];
    moves.push(...rows.filter((r) => foldEmail(r.source) !== r.email));
    if (rows.length < BATCH) break;
    after = rows[rows.length - 1].email;
  }
  for (const m of moves) {
    await q.query(`DELETE FROM ${s}.email_reservations WHERE email = $1 AND user_id = $2`, [m.email, m.user_id]);
    await q.query(
      `INSERT INTO ${s}.email_reservations AS r (email, user_id, position) VALUES ($1, $2, $3)
       ON CONFLICT (email) DO UPDATE SET user_id = excluded.user_id, position = excluded.position
        WHERE excluded.position < r.position`,
      [foldEmail(m.source), m.user_id, m.position],
    );
  }
}

async function reserveMissing(q: QueryRunner, s: string): Promise<void> {
  for (let after = '0'; ;) {
    const rows = (await q.query(
      `SELECT position::text AS position, substr(stream_id, 6) AS user_id, data->>'email' AS source FROM ${s}.events
        WHERE position > $1 AND type = 'UserRegistered' AND stream_id LIKE 'user-_%' AND jsonb_typeof(data->'email') = 'string'
        ORDER BY position LIMIT ${BATCH}`,
      [after],
    )) as Omit<ReservationRow, 'email'>[];
    const first = new Map<string, Omit<ReservationRow, 'email'>>();
    for (const r of rows) if (!first.has(foldEmail(r.source))) first.set(foldEmail(r.source), r);
    // Batches go in log order and DO NOTHING keeps any holder: the earliest registration wins.
    await q.query(
      `INSERT INTO ${s}.email_reservations (email, user_id, position)
       SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[]) ON CONFLICT (email) DO NOTHING`,
      [[...first.keys()], [...first.values()].map((r) => r.user_id), [...first.values()].map((r) => r.position)],
    );
    if (rows.length < BATCH) break;
    after = rows[rows.length - 1].position;
  }
}
