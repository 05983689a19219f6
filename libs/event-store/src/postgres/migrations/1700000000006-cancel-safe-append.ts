import type { MigrationInterface, QueryRunner } from 'typeorm';
import { AppendFunction1700000000002 } from './1700000000002-append-function';
import { schemaOf } from './schema-of';

/**
 * Replaces `append_events` (same signature, so instances still running the
 * previous release keep working during a rolling deploy) with the
 * cancel-safe protocol:
 *   per-stream xact lock -> version check -> reserve_positions (the only
 *   place the global lock is held) -> INSERT with explicit positions and horizon.
 * The INSERT runs *after* the global lock is released, so an insert that
 * waits on an uncommitted duplicate event id, or is cancelled there, holds
 * nothing but its own transaction. `ON CONFLICT (event_id) DO NOTHING` turns
 * a retry of a stored append into a no-op that returns the original result.
 * The in-transaction NOTIFY is gone: it took a database-wide lock at COMMIT
 * that serialised every appending commit; the client notifies after commit.
 * `p_channel` is still honoured when given (older clients pass it).
 * Errors: ES001 concurrency conflict (DETAIL = actual version), ES002 event ids
 * reused differently; HINT = 1-based index of the stream in the request.
 */
export class CancelSafeAppend1700000000006 implements MigrationInterface {
  name = 'CancelSafeAppend1700000000006';

  async up(q: QueryRunner): Promise<void> {
    const s = schemaOf(q);
    await q.query(REPLAY_FUNCTION(s));
    await q.query(APPEND_FUNCTION(s));
  }

  async down(q: QueryRunner): Promise<void> {
    const s = schemaOf(q);
    await q.query(`DROP FUNCTION ${s}.append_events`);
    await q.query(`DROP FUNCTION ${s}.append_replay`);
    await new AppendFunction1700000000002().up(q);
  }
}

/** True when a stream at `current` satisfies `expected` ('any', 'no_stream', 'stream_exists' or a number). */
export const EXPECTED_VERSION_HOLDS = (expected: string, current: string) => `(${expected} = 'any'
  OR (${expected} = 'no_stream' AND ${current} = 0)
  OR (${expected} = 'stream_exists' AND ${current} > 0)
  OR (${expected} ~ '^[0-9]+$' AND ${expected}::bigint = ${current}))`;

/**
 * The slow path of an append that cannot be written as asked: either every
 * event id is already stored on this stream (a retry: answer the original
 * result, write nothing), or none is (a real version conflict: ES001), or some
 * are, or on another stream (ES002).
 */
const REPLAY_FUNCTION = (s: string) => `CREATE FUNCTION ${s}.append_replay(
    p_stream_id text, p_ids uuid[], p_expected text, p_current int, p_stream_index int)
  RETURNS TABLE (out_position bigint, out_stream_version int, out_written boolean)
  LANGUAGE plpgsql VOLATILE AS $fn$
  DECLARE v_existing int; v_foreign int;
  BEGIN
    SELECT count(*), count(*) FILTER (WHERE e.stream_id <> p_stream_id) INTO v_existing, v_foreign
      FROM ${s}.events e WHERE e.event_id = ANY (p_ids);
    IF v_existing = 0 THEN
      RAISE EXCEPTION 'expected version % but stream is at %', p_expected, p_current
        USING ERRCODE = 'ES001', DETAIL = p_current::text, HINT = p_stream_index::text;
    END IF;
    IF v_existing <> cardinality(p_ids) OR v_foreign > 0 THEN
      RAISE EXCEPTION 'event ids reused differently' USING ERRCODE = 'ES002', HINT = p_stream_index::text;
    END IF;
    RETURN QUERY SELECT max(e.position), max(e.stream_version), false FROM ${s}.events e WHERE e.event_id = ANY (p_ids);
  END $fn$`;

const APPEND_FUNCTION = (s: string) => `CREATE OR REPLACE FUNCTION ${s}.append_events(
    p_stream_id text, p_expected text,
    p_ids uuid[], p_types text[], p_versions int[], p_data jsonb[], p_metadata jsonb[], p_recorded timestamptz[],
    p_stream_lock int, p_global_lock_1 int, p_global_lock_2 int, p_channel text)
  RETURNS TABLE (out_position bigint, out_stream_version int, out_written boolean)
  LANGUAGE plpgsql VOLATILE AS $fn$
  DECLARE
    v_count int := cardinality(p_ids); v_current int; v_first bigint; v_horizon xid8; v_written int;
  BEGIN
    PERFORM pg_advisory_xact_lock(p_stream_lock, hashtext(p_stream_id));
    SELECT coalesce(max(e.stream_version), 0) INTO v_current FROM ${s}.events e WHERE e.stream_id = p_stream_id;
    IF NOT ${EXPECTED_VERSION_HOLDS('p_expected', 'v_current')} THEN
      RETURN QUERY SELECT * FROM ${s}.append_replay(p_stream_id, p_ids, p_expected, v_current, 1);
      RETURN;
    END IF;
    SELECT r.first_position, r.horizon INTO v_first, v_horizon
      FROM ${s}.reserve_positions(v_count, p_global_lock_1, p_global_lock_2) r;
    WITH written AS (
      INSERT INTO ${s}.events (position, transaction_id, event_id, stream_id, stream_version, type, schema_version,
                               data, metadata, recorded_at)
      OVERRIDING SYSTEM VALUE
      SELECT v_first + e.ord - 1, v_horizon, e.id, p_stream_id, v_current + e.ord::int, e.type, e.version,
             e.data, e.metadata, coalesce(e.recorded, now())
        FROM unnest(p_ids, p_types, p_versions, p_data, p_metadata, p_recorded)
             WITH ORDINALITY AS e(id, type, version, data, metadata, recorded, ord)
      ON CONFLICT (event_id) DO NOTHING
      RETURNING 1)
    SELECT count(*) INTO v_written FROM written;
    IF v_written = 0 THEN
      RETURN QUERY SELECT * FROM ${s}.append_replay(p_stream_id, p_ids, p_expected, v_current, 1);
      RETURN;
    ELSIF v_written < v_count THEN
      RAISE EXCEPTION 'event ids reused differently' USING ERRCODE = 'ES002';
    END IF;
    IF p_channel IS NOT NULL THEN
      PERFORM pg_notify(p_channel, (v_first + v_count - 1)::text);
    END IF;
    RETURN QUERY SELECT v_first + v_count - 1, v_current + v_count, true;
  END $fn$`;
