import type { MigrationInterface, QueryRunner } from 'typeorm';
import { schemaOf } from './schema-of';

/**
 * The append-only log. `transaction_id` records the appending transaction so
 * readers of the global log can wait for in-flight transactions (see
 * docs/adr/0002-global-order.md). A trigger rejects UPDATE and DELETE: stored
 * history is never rewritten by application code.
 */
export class CreateEventLog1700000000001 implements MigrationInterface {
  name = 'CreateEventLog1700000000001';

  async up(q: QueryRunner): Promise<void> {
    const s = schemaOf(q);
    await q.query(`CREATE TABLE ${s}.events (
      position        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      transaction_id  xid8 NOT NULL DEFAULT pg_current_xact_id(),
      event_id        uuid NOT NULL,
      stream_id       text NOT NULL,
      stream_version  integer NOT NULL CHECK (stream_version >= 1),
      type            text NOT NULL,
      schema_version  integer NOT NULL CHECK (schema_version >= 1),
      data            jsonb NOT NULL,
      metadata        jsonb NOT NULL DEFAULT '{}'::jsonb,
      recorded_at     timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT events_event_id_key UNIQUE (event_id),
      CONSTRAINT events_stream_version_key UNIQUE (stream_id, stream_version)
    )`);
    await q.query(`CREATE FUNCTION ${s}.events_are_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'the event log is append-only (% rejected)', TG_OP; END $$`);
    await q.query(`CREATE TRIGGER events_immutable BEFORE UPDATE OR DELETE ON ${s}.events
      FOR EACH ROW EXECUTE FUNCTION ${s}.events_are_immutable()`);
  }

  async down(q: QueryRunner): Promise<void> {
    const s = schemaOf(q);
    await q.query(`DROP TABLE ${s}.events`);
    await q.query(`DROP FUNCTION ${s}.events_are_immutable()`);
  }
}
