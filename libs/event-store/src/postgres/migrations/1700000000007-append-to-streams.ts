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
 * `p_stream_of[k]` is the 1-based index in `p_streams` of event k.
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
    p_streams text[], p_expected text[], p_stream_of int[],
    p_ids uuid[], p_types text[], p_versions int[], p_data jsonb[], p_metadata jsonb[], p_recorded timestamptz[],
    p_stream_lock int, p_global_lock_1 int, p_global_lock_2 int)
  RETURNS TABLE (out_stream int, out_position bigint, out_stream_version int, out_written boolean)
  LANGUAGE plpgsql VOLATILE AS $fn$
  DECLARE
    v_streams int := cardinality(p_streams);
    v_key int; i int; v_current int[]; v_sizes int[]; v_counts int[];
    v_replayed boolean[]; v_excluded boolean[]; v_replay_position bigint[]; v_replay_version int[];
    v_to_write int; v_first bigint; v_horizon xid8; v_position bigint; v_version int;
  BEGIN
    FOR v_key IN SELECT DISTINCT hashtext(st.id) FROM unnest(p_streams) st(id) ORDER BY 1 LOOP
      PERFORM pg_advisory_xact_lock(p_stream_lock, v_key);
    END LOOP;
    SELECT array_agg(coalesce((SELECT max(e.stream_version) FROM ${s}.events e WHERE e.stream_id = st.id), 0) ORDER BY st.ord)
      INTO v_current FROM unnest(p_streams) WITH ORDINALITY st(id, ord);
    SELECT array_agg(coalesce(c.n, 0) ORDER BY st.ord) INTO v_sizes
      FROM generate_series(1, v_streams) st(ord)
      LEFT JOIN (SELECT so.i, count(*)::int AS n FROM unnest(p_stream_of) so(i) GROUP BY so.i) c ON c.i = st.ord;
    v_replayed := array_fill(false, ARRAY[v_streams]);
    v_replay_position := array_fill(NULL::bigint, ARRAY[v_streams]);
    v_replay_version := array_fill(NULL::int, ARRAY[v_streams]);
    FOR i IN 1..v_streams LOOP
      IF NOT ${EXPECTED_VERSION_HOLDS('p_expected[i]', 'v_current[i]')} THEN
        SELECT r.out_position, r.out_stream_version INTO v_position, v_version
          FROM ${s}.append_replay(p_streams[i], ${IDS_OF_STREAM('i')}, p_expected[i], v_current[i], i) r;
        v_replayed[i] := true; v_replay_position[i] := v_position; v_replay_version[i] := v_version;
      END IF;
    END LOOP;
    -- Streams answered from the log before the insert take no positions.
    v_excluded := v_replayed;
    SELECT count(*) INTO v_to_write FROM unnest(p_stream_of) so(i) WHERE NOT v_excluded[so.i];
    IF v_to_write > 0 THEN
      SELECT r.first_position, r.horizon INTO v_first, v_horizon
        FROM ${s}.reserve_positions(v_to_write, p_global_lock_1, p_global_lock_2) r;
      WITH input AS (
        SELECT e.*, row_number() OVER (PARTITION BY e.stream ORDER BY e.ord) AS rank_in_stream,
               row_number() OVER (ORDER BY e.ord) AS k
          FROM unnest(p_stream_of, p_ids, p_types, p_versions, p_data, p_metadata, p_recorded)
               WITH ORDINALITY AS e(stream, id, type, version, data, metadata, recorded, ord)
         WHERE NOT v_excluded[e.stream]
      ), written AS (
        INSERT INTO ${s}.events (position, transaction_id, event_id, stream_id, stream_version, type, schema_version,
                                 data, metadata, recorded_at)
        OVERRIDING SYSTEM VALUE
        SELECT v_first + i.k - 1, v_horizon, i.id, p_streams[i.stream], v_current[i.stream] + i.rank_in_stream::int,
               i.type, i.version, i.data, i.metadata, coalesce(i.recorded, now())
          FROM input i ORDER BY i.ord
        ON CONFLICT (event_id) DO NOTHING
        RETURNING stream_id)
      SELECT array_agg(c.n ORDER BY c.ord) INTO v_counts FROM (
        SELECT st.ord, count(w.stream_id)::int AS n
          FROM unnest(p_streams) WITH ORDINALITY st(id, ord) LEFT JOIN written w ON w.stream_id = st.id
         GROUP BY st.ord) c;
      FOR i IN 1..v_streams LOOP
        IF NOT v_excluded[i] AND v_counts[i] < v_sizes[i] THEN
          IF v_counts[i] > 0 THEN
            RAISE EXCEPTION 'event ids reused differently' USING ERRCODE = 'ES002', HINT = i::text;
          END IF;
          SELECT r.out_position, r.out_stream_version INTO v_position, v_version
            FROM ${s}.append_replay(p_streams[i], ${IDS_OF_STREAM('i')}, p_expected[i], v_current[i], i) r;
          v_replayed[i] := true; v_replay_position[i] := v_position; v_replay_version[i] := v_version;
        END IF;
      END LOOP;
    END IF;
    RETURN QUERY
      SELECT st.ord::int,
             CASE WHEN v_replayed[st.ord] THEN v_replay_position[st.ord] ELSE v_first + w.last_k - 1 END,
             CASE WHEN v_replayed[st.ord] THEN v_replay_version[st.ord] ELSE v_current[st.ord] + v_sizes[st.ord] END,
             NOT v_replayed[st.ord]
        FROM generate_series(1, v_streams) st(ord)
        LEFT JOIN (SELECT e.stream, max(e.k) AS last_k FROM (
                     SELECT so.stream, row_number() OVER (ORDER BY so.ord) AS k
                       FROM unnest(p_stream_of) WITH ORDINALITY so(stream, ord) WHERE NOT v_excluded[so.stream]) e
                    GROUP BY e.stream) w ON w.stream = st.ord
       ORDER BY st.ord;
  END $fn$`;

/** The event ids of stream `i` in the request (slow paths only). */
const IDS_OF_STREAM = (i: string) => `ARRAY(SELECT p_ids[k] FROM generate_subscripts(p_ids, 1) k WHERE p_stream_of[k] = ${i})`;
