import type { MigrationInterface, QueryRunner } from 'typeorm';
import { schemaOf } from './schema-of';

/**
 * One row per projection: its checkpoint (read model and checkpoint commit in
 * one transaction), its state, the error it is stopped on, a running rebuild
 * and the audit trail of skipped events.
 */
export class Projections1700000000003 implements MigrationInterface {
  name = 'Projections1700000000003';

  async up(q: QueryRunner): Promise<void> {
    const s = schemaOf(q);
    await q.query(`CREATE TABLE ${s}.projections (
      name        text PRIMARY KEY,
      version     integer NOT NULL,
      position    bigint NOT NULL DEFAULT 0,
      state       text NOT NULL DEFAULT 'running' CHECK (state IN ('running', 'stopped')),
      error       jsonb,
      rebuild     jsonb,
      skipped     jsonb NOT NULL DEFAULT '[]'::jsonb,
      updated_at  timestamptz NOT NULL DEFAULT now()
    )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE ${schemaOf(q)}.projections`);
  }
}
