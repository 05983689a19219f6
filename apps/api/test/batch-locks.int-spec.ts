import { Client } from 'pg';
import { createEventStore, MAX_STREAMS_PER_BATCH, type EventStoreHandle } from '@app/event-store';
import { note, notedEvents } from '@app/event-store/testing';
import { eventually } from '../../../test/eventually';
import { startOwnPostgres, type OwnPostgres } from './own-postgres';

/** Concurrent callers, each with one maximum-size batch; one pool connection each. */
const CALLERS = 12;
/** A small server: the shared lock table holds max_locks_per_transaction (64) x about 50 backends. */
const MAX_CONNECTIONS = 20;

/**
 * The bound on the stream locks one batch transaction holds
 * (`MAX_STREAMS_PER_BATCH`): every caller of a full pool runs a maximum-size
 * batch at once, all holding their stream locks together, and PostgreSQL's
 * shared lock table is not exhausted. On a PostgreSQL of the test's own, so
 * the table's size is known and nobody else's locks count against it.
 */
describe('appendToStreams at its maximum batch size, concurrently', () => {
  const schema = 'batch_locks';
  let db: OwnPostgres | undefined;
  let es: EventStoreHandle | undefined;
  let side: Client | undefined;

  beforeAll(async () => {
    db = await startOwnPostgres(['-c', `max_connections=${MAX_CONNECTIONS}`, '-c', 'fsync=off']);
    es = await createEventStore({ url: db.url, schema, events: notedEvents, poolSize: CALLERS });
    side = new Client({ connectionString: db.url });
    await side.connect();
  }, 120_000);
  afterAll(async () => {
    await side?.end();
    await es?.close();
    await db?.stop();
  }, 60_000);

  it(`${CALLERS} concurrent batches of ${MAX_STREAMS_PER_BATCH} streams all hold their locks at once and all commit`, async () => {
    const [{ size }] = (await side!.query<{ size: string }>(`SELECT current_setting('max_locks_per_transaction') AS size`)).rows;
    expect(Number(size)).toBe(64);
    // Hold every batch inside its critical section (position draws blocked), after it took its stream locks.
    await side!.query('BEGIN');
    await side!.query(`ALTER SEQUENCE "${schema}".events_position_seq CACHE 1`);
    const batches = Array.from({ length: CALLERS }, (_, c) =>
      es!.store.appendToStreams(
        Array.from({ length: MAX_STREAMS_PER_BATCH }, (_, i) => ({
          streamId: `c${c}-s${i}`,
          events: [note(i)],
          expectedVersion: 'no_stream',
        })),
      ),
    );
    let rejected = 0;
    const outcomes = Promise.allSettled(batches.map((b) => b.catch((e: Error) => ((rejected += 1), Promise.reject(e)))));
    const held = async () =>
      Number((await side!.query<{ n: string }>(`SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND granted`)).rows[0].n);
    // Every batch holds all its stream locks at the same time (the old bound failed here: out of shared memory).
    await eventually(
      async () => rejected > 0 || (await held()) >= CALLERS * MAX_STREAMS_PER_BATCH,
      30_000,
      'every batch to hold its stream locks',
    );
    await side!.query('ROLLBACK');
    const results = await outcomes;
    const failures = results.flatMap((r) => (r.status === 'rejected' ? [String((r.reason as Error).message)] : []));
    expect(failures).toEqual([]);
    const [{ n }] = (await side!.query<{ n: string }>(`SELECT count(*) AS n FROM "${schema}".events`)).rows;
    expect(Number(n)).toBe(CALLERS * MAX_STREAMS_PER_BATCH);
  }, 120_000);
});
