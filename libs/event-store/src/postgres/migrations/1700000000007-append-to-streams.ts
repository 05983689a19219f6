import type { MigrationInterface, QueryRunner } from 'typeorm';
import { EXPECTED_VERSION_HOLDS } from './1700000000006-cancel-safe-append';
import { schemaOf } from './schema-of';

/**
 * Batch append: events for one or many streams, each stream with its own
 * expected version, in one statement, all or nothing. Same protocol as
 * `append_events` (ADR 0002): stream locks (taken in one global order so two
 * batches cannot deadlock), version checks, one `reserve_positions` for the
 * whole batch, then one INSERT. A stream whose events are all stored already
 * (a retried batch) is a no-op that answers its original result.
 * The events come as one JSON array (`stream` is the 1-based index in
 * `p_streams`): measured, building and parsing one JSON document is several
 * times cheaper than six escaped array literals. Their stream indexes and
 * ids also come as plain arrays (`p_stream_of`, `p_ids`), cheaper to read
 * than the JSON for the checks that need only them; `p_rank[k]` is event k's
 * 1-based rank within its stream.
 * Errors as `append_events`; HINT names the index of the failing stream.
 */
export class AppendToStreams1700000000007 implements MigrationInterface {
  name = 'AppendToStreams1700000000007';

  async up(q: QueryRunner): Promise<void> {
    await q.query(BATCH_FUNCTION(schemaOf(q)));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION ${schemaOf(q)}.append_to_streams`);
  }
}

const BATCH_FUNCTION = (s: string) => `CREATE FUNCTION ${s}.append_to_streams(
    p_streams text[], p_expected text[], p_stream_of int[], p_ids uuid[], p_rank int[], p_events jsonb,
    p_stream_lock int, p_global_lock_1 int, p_global_lock_2 int)
  RETURNS TABLE (out_stream int, out_position bigint, out_stream_version int, out_written boolean)
  LANGUAGE plpgsql VOLATILE AS $fn$
  DECLARE
    v_streams int := cardinality(p_streams);
    v_stream_of int[] := p_stream_of;
    v_ids uuid[] := p_ids;
    v_key int; i int; v_current int[]; v_sizes int[]; v_seen int[];
    v_replayed boolean[]; v_replay_position bigint[]; v_replay_version int[];
    v_to_write int; v_first bigint; v_horizon xid8; v_position bigint; v_version int;
  BEGIN
    FOR v_key IN SELECT DISTINCT hashtext(st.id) FROM unnest(p_streams) st(id) ORDER BY 1 LOOP
      PERFORM pg_advisory_xact_lock(p_stream_lock, v_key);
    END LOOP;
    SELECT array_agg(coalesce((SELECT max(e.stream_version) FROM ${s}.events e WHERE e.stream_id = st.id), 0) ORDER BY st.ord)
      INTO v_current FROM unnest(p_streams) WITH ORDINALITY st(id, ord);
    SELECT array_agg(coalesce(c.n, 0) ORDER BY st.ord) INTO v_sizes
      FROM generate_series(1, v_streams) st(ord)
      LEFT JOIN (SELECT so.i, count(*)::int AS n FROM unnest(v_stream_of) so(i) GROUP BY so.i) c ON c.i = st.ord;
    v_replayed := array_fill(false, ARRAY[v_streams]);
    v_replay_position := array_fill(NULL::bigint, ARRAY[v_streams]);
    v_replay_version := array_fill(NULL::int, ARRAY[v_streams]);
    -- A stream with any id already stored is a retry (all stored on it: answer the original) or a misuse (ES002).
    -- Checked up front instead of ON CONFLICT, which measured 30-50% slower; the stream locks make it race-free
    -- for a retry, and the same ids racing in on another stream hit the unique key (IdempotencyConflictError).
    v_seen := ARRAY(SELECT DISTINCT so.stream FROM unnest(v_ids, v_stream_of) so(id, stream)
                      JOIN ${s}.events e ON e.event_id = so.id);
    FOR i IN 1..v_streams LOOP
      IF i = ANY (v_seen) OR NOT ${EXPECTED_VERSION_HOLDS('p_expected[i]', 'v_current[i]')} THEN
        SELECT r.out_position, r.out_stream_version INTO v_position, v_version
          FROM ${s}.append_replay(p_streams[i], ${IDS_OF_STREAM('i')}, p_expected[i], v_current[i], i) r;
        v_replayed[i] := true; v_replay_position[i] := v_position; v_replay_version[i] := v_version;
      END IF;
    END LOOP;
    -- Event k takes position first + k - 1 of a block as long as the request (a replayed stream leaves a gap), and
    -- version current + its rank in its stream (p_rank, counted by the client): no sort of the events.
    SELECT count(*) INTO v_to_write FROM unnest(v_stream_of) so(i) WHERE NOT v_replayed[so.i];
    IF v_to_write > 0 THEN
      SELECT r.first_position, r.horizon INTO v_first, v_horizon
        FROM ${s}.reserve_positions(cardinality(v_ids), p_global_lock_1, p_global_lock_2) r;
      INSERT INTO ${s}.events (position, transaction_id, event_id, stream_id, stream_version, type, schema_version,
                               data, metadata, recorded_at)
      OVERRIDING SYSTEM VALUE
      SELECT v_first + e.ord - 1, v_horizon, e.id, p_streams[e.stream], v_current[e.stream] + p_rank[e.ord],
             e.type, e.version, e.data, e.metadata, coalesce(e.recorded, now())
        FROM ROWS FROM (jsonb_to_recordset(p_events)
               AS (stream int, id uuid, type text, version int, data jsonb, metadata jsonb, recorded timestamptz))
             WITH ORDINALITY AS e(stream, id, type, version, data, metadata, recorded, ord)
       WHERE NOT v_replayed[e.stream];
    END IF;
    RETURN QUERY
      SELECT st.ord::int,
             CASE WHEN v_replayed[st.ord] THEN v_replay_position[st.ord] ELSE v_first + w.last_k - 1 END,
             CASE WHEN v_replayed[st.ord] THEN v_replay_version[st.ord] ELSE v_current[st.ord] + v_sizes[st.ord] END,
             NOT v_replayed[st.ord]
        FROM generate_series(1, v_streams) st(ord)
        LEFT JOIN (SELECT so.stream, max(so.ord) AS last_k FROM unnest(v_stream_of) WITH ORDINALITY so(stream, ord)
                    GROUP BY so.stream) w ON w.stream = st.ord
       ORDER BY st.ord;
  END $fn$`;

/** The event ids of stream `i` in the request (slow paths only). */
const IDS_OF_STREAM = (i: string) => `ARRAY(SELECT v_ids[k] FROM generate_subscripts(v_ids, 1) k WHERE v_stream_of[k] = ${i})`;
