import type { MigrationInterface, QueryRunner } from 'typeorm';
import { schemaOf } from './schema-of';

/**
 * Remembers the last rebuild an operator aborted (version, position, when),
 * so instances running that version do not start it again by themselves; an
 * explicit rebuild request or a newer version still does.
 */
export class ProjectionRebuildAbort1700000000004 implements MigrationInterface {
  name = 'ProjectionRebuildAbort1700000000004';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE ${schemaOf(q)}.projections ADD COLUMN aborted_rebuild jsonb`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE ${schemaOf(q)}.projections DROP COLUMN aborted_rebuild`);
  }
}
