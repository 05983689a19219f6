import type { MigrationInterface, QueryRunner } from 'typeorm';
import { schemaOf } from './schema-of';

/**
 * Aggregate snapshots: a cache of a replay, never part of the log (rows are replaced and
 * deleted; the log's immutability trigger does not apply). One row per stream, aggregate type
 * and snapshot schema version, so instances of two code versions during a rolling deploy keep
 * their own. `event_id` is the event the state was taken at: a load uses the row only if that
 * event is still in the log at `stream_version`. Numbered 20, apart from the log's own sequence,
 * so migrations added to the log meanwhile keep their numbers (order between them is irrelevant).
 */
export class Snapshots1700000000020 implements MigrationInterface {
  name = 'Snapshots1700000000020';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE ${schemaOf(q)}.snapshots (
      stream_id       text NOT NULL,
      aggregate_type  text NOT NULL,
      schema_version  integer NOT NULL CHECK (schema_version >= 1),
      stream_version  integer NOT NULL CHECK (stream_version >= 1),
      event_id        uuid NOT NULL,
      state           jsonb NOT NULL,
      taken_at        timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (stream_id, aggregate_type, schema_version)
    )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE ${schemaOf(q)}.snapshots`);
  }
}
