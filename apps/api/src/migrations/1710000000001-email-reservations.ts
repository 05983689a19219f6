import type { MigrationInterface, QueryRunner } from 'typeorm';
import { schemaOf } from '@app/event-store/migrations';

/**
 * One row per email in use (lower-cased): the user holding it and the position of the
 * registration that took it. Registrations insert their row in the append's transaction,
 * so the primary key makes an email unique across instances. The backfill reserves the
 * emails of the existing log: the earliest registration (lowest position) keeps an email
 * registered more than once; the others are listed by `events:verify`.
 *
 * The backfill reads the stored JSON as it is at this migration: every `UserRegistered`
 * version so far (v1, v2) keeps the address in `data.email`.
 */
export class EmailReservations1710000000001 implements MigrationInterface {
  name = 'EmailReservations1710000000001';

  async up(q: QueryRunner): Promise<void> {
    const s = schemaOf(q);
    await q.query(`CREATE TABLE ${s}.email_reservations (
      email       text PRIMARY KEY,
      user_id     text NOT NULL,
      position    bigint NOT NULL,
      reserved_at timestamptz NOT NULL DEFAULT now()
    )`);
    await q.query(`INSERT INTO ${s}.email_reservations (email, user_id, position)
      SELECT DISTINCT ON (lower(e.data->>'email')) lower(e.data->>'email'), substr(e.stream_id, 6), e.position
        FROM ${s}.events e
       WHERE e.type = 'UserRegistered' AND e.stream_id LIKE 'user-%' AND jsonb_typeof(e.data->'email') = 'string'
       ORDER BY lower(e.data->>'email'), e.position`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE ${schemaOf(q)}.email_reservations`);
  }
}
