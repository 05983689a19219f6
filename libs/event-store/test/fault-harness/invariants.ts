import { eventually } from '../../../../test/eventually';
import type { EventStoreHandle } from '../../src';
import type { Queryable } from '../../src';
import { balanceDifferences, readModelSnapshot } from '../../src/testing/balances-projection';
import { TEST_DATABASE_URL } from '../../src/testing/test-database';
import { LIVE_PROJECTION, openStore } from './instance';

/** How long the checks wait for a projection to catch up with a settled log. */
const CATCH_UP_MS = 20_000;

/** Every stream's versions are 1..n: none missing, none twice (a half-written batch or a double write would show). */
export async function streamVersionViolations(q: Queryable, schema: string): Promise<string[]> {
  const rows = await q.query<{ stream_id: string; n: string; top: number }>(
    `SELECT stream_id, count(*) AS n, max(stream_version) AS top FROM "${schema}".events
      GROUP BY stream_id HAVING count(*) <> max(stream_version) OR min(stream_version) <> 1`,
  );
  return rows.map((r) => `stream ${r.stream_id} has ${r.n} events up to version ${r.top}`);
}

/** Waits until no transaction holds the log back: the settled head is the log's last position. */
export async function settledHead(observer: EventStoreHandle): Promise<number> {
  return eventually(
    async () => {
      const head = await observer.store.headPosition();
      const [{ last }] = await observer.db.query<{ last: string }>(
        `SELECT coalesce(max(position), 0) AS last FROM "${observer.schema}".events`,
      );
      return head === Number(last) && head > 0 ? head : 0;
    },
    15_000,
    'the log to settle (no transaction in flight)',
  );
}

/** The live projection waits to reach `head`; a stop (poison) or a stuck runner is a violation, named with its status. */
async function caughtUp(handle: EventStoreHandle, name: string, head: number): Promise<string[]> {
  if (await handle.projections.waitFor(name, head, CATCH_UP_MS)) return [];
  const status = await handle.projections.status().catch((e: Error) => e.message);
  return [`projection ${name} did not reach ${head} within ${CATCH_UP_MS} ms: ${JSON.stringify(status)}`];
}

/**
 * The live projection, caught up, equals a rebuild from scratch: a fresh
 * projection of the same code (its own name and tables) run on a sound link
 * over the whole log, and what the log itself sums to. Each event applied
 * once (the `_applied` table's key), none skipped below the checkpoint.
 */
export async function projectionViolations(observer: EventStoreHandle, head: number, live: EventStoreHandle): Promise<string[]> {
  const { schema, db: q } = observer;
  const out = await caughtUp(live, LIVE_PROJECTION, head);
  const status = (await live.projections.status())[0];
  if (status.state !== 'running') out.push(`projection ${LIVE_PROJECTION} is ${status.state}: ${JSON.stringify(status.lastError)}`);
  const scratchName = 'scratch';
  const scratch = await openStore(TEST_DATABASE_URL, schema, 'scratch', scratchName);
  try {
    await scratch.projections.start();
    out.push(...(await caughtUp(scratch, scratchName, head)));
  } finally {
    await scratch.close();
  }
  for (const name of [LIVE_PROJECTION, scratchName]) {
    const s = await readModelSnapshot(q, schema, name);
    if (s.applied !== s.distinctApplied || s.applied !== s.expectedEvents || s.events !== s.expectedEvents || s.total !== s.expectedTotal) {
      out.push(`projection ${name} disagrees with the log up to its checkpoint: ${JSON.stringify(s)}`);
    }
    const diff = await balanceDifferences(q, schema, name);
    if (diff.length) out.push(`projection ${name} differs from the log's sums in ${diff.length} rows, e.g. ${JSON.stringify(diff[0])}`);
  }
  const [{ n }] = await q.query<{ n: string }>(
    `SELECT count(*) AS n FROM (
       (SELECT account, total, events FROM "${schema}"."${LIVE_PROJECTION}" EXCEPT SELECT account, total, events FROM "${schema}"."${scratchName}")
       UNION ALL
       (SELECT account, total, events FROM "${schema}"."${scratchName}" EXCEPT SELECT account, total, events FROM "${schema}"."${LIVE_PROJECTION}")) d`,
  );
  if (Number(n)) out.push(`projection ${LIVE_PROJECTION} differs from a rebuild from scratch in ${n} rows`);
  return out;
}
