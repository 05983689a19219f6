import type { MigrationInterface, QueryRunner } from 'typeorm';
import { schemaOf } from '@app/event-store/migrations';

/** An erasure releases the emails a user holds: find them by user without reading the whole table. */
export class EmailReservationHolders1710000000012 implements MigrationInterface {
  name = 'EmailReservationHolders1710000000012';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX email_reservations_user_id ON ${schemaOf(q)}.email_reservations (user_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX ${schemaOf(q)}.email_reservations_user_id`);
  }
}
