import type { MigrationInterface, QueryRunner } from 'typeorm';
import { schemaOf } from './schema-of';

/**
 * The whole append as one server-side function: one round trip instead of
 * nine. Being VOLATILE plpgsql, each statement takes a fresh snapshot, so the
 * version read after waiting for the stream lock sees the previous writer's
 * commit. Order of steps is the global-order protocol of ADR 0002:
 * per-stream xact lock -> checks -> [global session lock -> xid -> INSERT -> unlock] -> NOTIFY.
 * Errors: SQLSTATE ES001 concurrency conflict (DETAIL = actual version),
 * ES002 event ids reused differently.
 */
export class AppendFunction1700000000002 implements MigrationInterface {
  name = 'AppendFunction1700000000002';

  async up(q: QueryRunner): Promise<void> {
    const s = schemaOf(q);
    await q.query(`CREATE FUNCTION ${s}.append_events(
        p_stream_id text, p_expected text,
        p_ids uuid[], p_types text[], p_versions int[], p_data jsonb[], p_metadata jsonb[], p_recorded timestamptz[],
        p_stream_lock int, p_global_lock_1 int, p_global_lock_2 int, p_channel text)
      RETURNS TABLE (out_position bigint, out_stream_version int, out_written boolean)
      LANGUAGE plpgsql VOLATILE AS $fn$
      DECLARE
        v_current int; v_existing int; v_foreign int; v_position bigint; v_version int;
      BEGIN
        PERFORM pg_advisory_xact_lock(p_stream_lock, hashtext(p_stream_id));
        SELECT coalesce(max(e.stream_version), 0) INTO v_current FROM ${s}.events e WHERE e.stream_id = p_stream_id;
        SELECT count(*), count(*) FILTER (WHERE e.stream_id <> p_stream_id) INTO v_existing, v_foreign
          FROM ${s}.events e WHERE e.event_id = ANY (p_ids);
        IF v_existing > 0 THEN
          IF v_existing <> cardinality(p_ids) OR v_foreign > 0 THEN
            RAISE EXCEPTION 'event ids reused differently' USING ERRCODE = 'ES002';
          END IF;
          RETURN QUERY SELECT max(e.position), max(e.stream_version), false FROM ${s}.events e WHERE e.event_id = ANY (p_ids);
          RETURN;
        END IF;
        IF NOT (p_expected = 'any'
             OR (p_expected = 'no_stream' AND v_current = 0)
             OR (p_expected = 'stream_exists' AND v_current > 0)
             OR (p_expected ~ '^[0-9]+$' AND p_expected::bigint = v_current)) THEN
          RAISE EXCEPTION 'expected version % but stream is at %', p_expected, v_current
            USING ERRCODE = 'ES001', DETAIL = v_current::text;
        END IF;
        PERFORM pg_advisory_lock(p_global_lock_1, p_global_lock_2), pg_current_xact_id();
        BEGIN
          WITH inserted AS (
            INSERT INTO ${s}.events (event_id, stream_id, stream_version, type, schema_version, data, metadata, recorded_at)
            SELECT e.id, p_stream_id, v_current + e.ord::int, e.type, e.version, e.data, e.metadata, coalesce(e.recorded, now())
              FROM unnest(p_ids, p_types, p_versions, p_data, p_metadata, p_recorded)
                   WITH ORDINALITY AS e(id, type, version, data, metadata, recorded, ord)
             ORDER BY e.ord
            RETURNING position, stream_version)
          SELECT max(i.position), max(i.stream_version) INTO v_position, v_version FROM inserted i;
        EXCEPTION WHEN OTHERS THEN
          PERFORM pg_advisory_unlock(p_global_lock_1, p_global_lock_2);
          RAISE;
        END;
        PERFORM pg_advisory_unlock(p_global_lock_1, p_global_lock_2);
        PERFORM pg_notify(p_channel, v_position::text);
        RETURN QUERY SELECT v_position, v_version, true;
      END $fn$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION ${schemaOf(q)}.append_events`);
  }
}
