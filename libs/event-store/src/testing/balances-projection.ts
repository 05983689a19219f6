import { IsInt, Min } from 'class-validator';
import type { Queryable } from '../postgres/queryable';
import type { Projection, TableNames } from '../projections/projection';
import { defineEvent } from '../registry/event-definition';
import type { RecordedEvent } from '../types';
import { seedEvents } from './seed';

/** Money paid into an account (stream `acct-N` or a seeded stream). */
export class Deposited {
  @IsInt() @Min(1) amount: number;
}
export const depositedEvent = defineEvent({ type: 'Deposited', version: 1, eventClass: Deposited });

export interface BalancesOptions {
  /** Projection name; also the prefix of its three tables. */
  name: string;
  version?: number;
  /** Stored `total` = amount * scale: a "v2" with other rules uses another scale. */
  scale?: number;
  /** apply throws while this returns true for an event of the batch (a bug that a deploy fixes). */
  failOn?: (event: RecordedEvent<Deposited>) => boolean;
  /** Written into the batch log with `pg_backend_pid()`, to show which instance applied what. */
  runnerId?: string;
}

/**
 * A small read model for the projection fault tests. Besides the balances it
 * keeps `<name>_applied` (one row per applied position, primary key: a second
 * application of an event fails the batch, so exactly-once violations cannot
 * hide) and `<name>_batches` (who applied which range, and when).
 */
export function balancesProjection(o: BalancesOptions): Projection {
  const [balances, applied, batches] = [o.name, `${o.name}_applied`, `${o.name}_batches`];
  const scale = o.scale ?? 1;
  return {
    name: o.name,
    version: o.version ?? 1,
    handles: ['Deposited'],
    tables: [balances, applied, batches],

    async createTables(sql: Queryable, t: TableNames) {
      await sql.query(`CREATE TABLE ${t[balances]} (account text PRIMARY KEY, total bigint NOT NULL, events int NOT NULL)`);
      await sql.query(`CREATE TABLE ${t[applied]} (position bigint PRIMARY KEY)`);
      await sql.query(`CREATE TABLE ${t[batches]} (
        id bigserial PRIMARY KEY, runner text NOT NULL, pid int NOT NULL, first_position bigint NOT NULL,
        last_position bigint NOT NULL, started_at timestamptz NOT NULL, ended_at timestamptz)`);
    },

    async apply(events: RecordedEvent[], sql: Queryable, t: TableNames) {
      const deposits = events as RecordedEvent<Deposited>[];
      const [{ id }] = await sql.query<{ id: string }>(
        `INSERT INTO ${t[batches]} (runner, pid, first_position, last_position, started_at)
         VALUES ($1, pg_backend_pid(), $2, $3, clock_timestamp()) RETURNING id`,
        [o.runnerId ?? 'main', deposits[0].position, deposits[deposits.length - 1].position],
      );
      const failing = o.failOn && deposits.find((e) => o.failOn!(e));
      if (failing) throw new Error(`refusing deposit at position ${failing.position}`);
      await sql.query(`INSERT INTO ${t[applied]} (position) SELECT unnest($1::bigint[])`, [deposits.map((e) => e.position)]);
      await sql.query(
        `INSERT INTO ${t[balances]} (account, total, events)
         SELECT account, sum(amount) * $3, count(*) FROM unnest($1::text[], $2::bigint[]) AS d(account, amount) GROUP BY account
         ON CONFLICT (account) DO UPDATE SET total = ${t[balances]}.total + EXCLUDED.total,
                                             events = ${t[balances]}.events + EXCLUDED.events`,
        [deposits.map((e) => e.streamId), deposits.map((e) => e.data.amount), scale],
      );
      await sql.query(`UPDATE ${t[batches]} SET ended_at = clock_timestamp() WHERE id = $1`, [id]);
      return [`projection:${o.name}`];
    },
  };
}

/** Seeds `count` valid Deposited events (amount 1..97) over `streams` streams, in one statement. */
export function seedDeposits(db: Queryable, schema: string, count: number, streams: number): Promise<void> {
  return seedEvents(db, schema, {
    count,
    streams,
    type: 'Deposited',
    schemaVersion: 1,
    data: (i) => `jsonb_build_object('amount', (${i} % 97) + 1)`,
  });
}

/** Checkpoint and read model of one projection, read in one statement (one snapshot), with what the log says they should be. */
export interface ReadModelSnapshot {
  checkpoint: number;
  applied: number;
  distinctApplied: number;
  maxApplied: number;
  events: number;
  total: number;
  /** Deposits at or below the checkpoint, and their amounts, per the log. */
  expectedEvents: number;
  expectedTotal: number;
}

/** Reads a balances projection's checkpoint and tables in one snapshot and what the log implies for that checkpoint. */
export async function readModelSnapshot(q: Queryable, schema: string, name: string, scale = 1): Promise<ReadModelSnapshot> {
  const s = `"${schema}"`;
  // Counts and sums are bigints (strings); Number() below.
  const [r] = await q.query<Record<string, string>>(
    `WITH cp AS (SELECT position FROM ${s}.projections WHERE name = $1)
     SELECT (SELECT position FROM cp) AS checkpoint,
            (SELECT count(*) FROM ${s}."${name}_applied") AS applied,
            (SELECT count(DISTINCT position) FROM ${s}."${name}_applied") AS distinct_applied,
            (SELECT coalesce(max(position), 0) FROM ${s}."${name}_applied") AS max_applied,
            (SELECT coalesce(sum(events), 0) FROM ${s}."${name}") AS events,
            (SELECT coalesce(sum(total), 0) FROM ${s}."${name}") AS total,
            (SELECT count(*) FROM ${s}.events WHERE type = 'Deposited' AND position <= (SELECT position FROM cp)) AS expected_events,
            (SELECT coalesce(sum((data->>'amount')::bigint), 0) * $2 FROM ${s}.events
              WHERE type = 'Deposited' AND position <= (SELECT position FROM cp)) AS expected_total`,
    [name, scale],
  );
  return {
    checkpoint: Number(r.checkpoint),
    applied: Number(r.applied),
    distinctApplied: Number(r.distinct_applied),
    maxApplied: Number(r.max_applied),
    events: Number(r.events),
    total: Number(r.total),
    expectedEvents: Number(r.expected_events),
    expectedTotal: Number(r.expected_total),
  };
}

/** Rows of the live balances table that differ from the per-account sums over the log (both directions). */
export async function balanceDifferences(q: Queryable, schema: string, name: string, scale = 1): Promise<unknown[]> {
  const s = `"${schema}"`;
  return q.query(
    `WITH expected AS (SELECT stream_id AS account, sum((data->>'amount')::bigint) * $1 AS total, count(*)::int AS events
                         FROM ${s}.events WHERE type = 'Deposited' GROUP BY stream_id),
          actual AS (SELECT account, total, events FROM ${s}."${name}")
     (SELECT 'missing' AS diff, * FROM (SELECT * FROM expected EXCEPT SELECT * FROM actual) m)
     UNION ALL (SELECT 'unexpected', * FROM (SELECT * FROM actual EXCEPT SELECT * FROM expected) u)`,
    [scale],
  );
}
