import type { MigrationInterface, QueryRunner } from 'typeorm';
import { schemaOf } from './schema-of';

/**
 * The critical section of the global-order protocol (ADR 0002), as one
 * function every writer calls: appends, batch appends and import.
 *
 * Under the global append lock (a session advisory lock, released before
 * COMMIT so commits stay concurrent) it reserves a block of `p_count`
 * consecutive positions (one nextval and one setval, as every writer of the
 * log draws positions only here, under the lock; a writer that bypassed it
 * would collide on the primary key, not interleave silently) and draws the
 * transaction's *horizon*: the greatest transaction id recorded by any writer
 * so far, including its own (assigned here if it was not yet). Rows store the
 * horizon in `transaction_id`; readers return a row only when its horizon is
 * below their snapshot's xmin, so every writer that drew a lower position has
 * finished. This holds whether the transaction got its id here or earlier (a
 * prior write, an earlier append): that is what makes `appendWithin` safe
 * after other writes. `events_horizon` is a sequence because sequences are not
 * transactional: a writer sees the horizon of writers that have not committed.
 * Unlogged where the server supports it: after a crash no transaction from
 * before it is running, so restarting the horizon from zero is correct.
 *
 * Cancel-safety: the lock is taken and released inside one block whose
 * handler also catches `query_canceled` (a cancel or a statement timeout),
 * which `WHEN OTHERS` does not; a dropped session releases session locks
 * itself. Nothing inside the section waits on another transaction's rows.
 */
export class PositionReservation1700000000005 implements MigrationInterface {
  name = 'PositionReservation1700000000005';

  async up(q: QueryRunner): Promise<void> {
    const s = schemaOf(q);
    // A migration's QueryRunner answers `any`: name the one column each statement returns.
    const [{ version }] = (await q.query(`SELECT current_setting('server_version_num')::int AS version`)) as { version: number }[];
    const [{ sequence }] = (await q.query(`SELECT pg_get_serial_sequence($1, 'position') AS sequence`, [`${s}.events`])) as {
      sequence: string;
    }[];
    await q.query(`CREATE ${version >= 150000 ? 'UNLOGGED' : ''} SEQUENCE ${s}.events_horizon AS bigint MINVALUE 0 START 0`);
    // Every transaction id assigned before this point is covered: appends that ran the previous function
    // and are still open (a rolling deploy) recorded ids at most this high.
    await q.query(`SELECT setval('${s}.events_horizon', pg_snapshot_xmax(pg_current_snapshot())::text::bigint - 1)`);
    await q.query(`CREATE FUNCTION ${s}.reserve_positions(p_count int, p_lock_1 int, p_lock_2 int,
        OUT first_position bigint, OUT horizon xid8)
      LANGUAGE plpgsql VOLATILE AS $fn$
      BEGIN
        IF p_count < 1 THEN
          RETURN;
        END IF;
        BEGIN
          PERFORM pg_advisory_lock(p_lock_1, p_lock_2);
          first_position := nextval('${sequence}');
          IF p_count > 1 THEN
            PERFORM setval('${sequence}', first_position + p_count - 1);
          END IF;
          SELECT setval('${s}.events_horizon', greatest(pg_current_xact_id()::text::bigint, h.last_value))::text::xid8
            INTO horizon FROM ${s}.events_horizon h;
          PERFORM pg_advisory_unlock(p_lock_1, p_lock_2);
        EXCEPTION WHEN OTHERS OR query_canceled THEN
          -- Cancelled while waiting for the lock: nothing to release (and no warning for it).
          IF EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted
                        AND classid = p_lock_1::oid AND objid = p_lock_2::oid AND objsubid = 2) THEN
            PERFORM pg_advisory_unlock(p_lock_1, p_lock_2);
          END IF;
          RAISE;
        END;
      END $fn$`);
  }

  async down(q: QueryRunner): Promise<void> {
    const s = schemaOf(q);
    await q.query(`DROP FUNCTION ${s}.reserve_positions`);
    await q.query(`DROP SEQUENCE ${s}.events_horizon`);
  }
}
