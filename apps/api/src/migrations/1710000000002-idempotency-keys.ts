import type { MigrationInterface, QueryRunner } from 'typeorm';
import { schemaOf } from '@app/event-store/migrations';

/**
 * Idempotency keys of command requests, scoped by route template. A row is claimed
 * (`in_progress`, with a lease in `locked_until` and a `claim` token) before the command
 * runs, and completed with the stored response in the same transaction as the command's
 * events; the token fences a holder whose lease was taken over. Rows past `expires_at`
 * count as absent and are swept.
 */
export class IdempotencyKeys1710000000002 implements MigrationInterface {
  name = 'IdempotencyKeys1710000000002';

  async up(q: QueryRunner): Promise<void> {
    const s = schemaOf(q);
    await q.query(`CREATE TABLE ${s}.idempotency_keys (
      scope        text NOT NULL,
      key          text NOT NULL,
      fingerprint  text NOT NULL,
      claim        uuid NOT NULL,
      state        text NOT NULL CHECK (state IN ('in_progress', 'completed')),
      response     jsonb,
      locked_until timestamptz NOT NULL,
      expires_at   timestamptz NOT NULL,
      created_at   timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (scope, key)
    )`);
    await q.query(`CREATE INDEX idempotency_keys_expires_at ON ${s}.idempotency_keys (expires_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE ${schemaOf(q)}.idempotency_keys`);
  }
}
