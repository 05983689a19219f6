import { Client } from 'pg';
import { createEventStore, EventStoreHandle } from '../create-event-store';
import { balancesProjection, depositedEvent, readModelSnapshot, seedDeposits } from '../testing/balances-projection';
import { eventually } from '../../../../test/eventually';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '../testing/test-database';
import type { Projection, ProjectionFault } from './projection';
import type { ProjectionStatus } from './projection-state';

const NAME = 'flaky_bal';

/**
 * Failures of the moment inside `apply` (a statement cancelled by its timeout, 57014; a lock not
 * available within `lock_timeout`, 55P03) say nothing about the event: the projection retries
 * with backoff, counts them, shows the streak in its status from the third attempt, and never
 * stops on them. (Before, only 08, 40 and 57P were transient: a 57014 stopped the projection on
 * a healthy event until someone retried by hand.)
 */
describe('transient failures inside apply', () => {
  const schema = uniqueSchema('es_proj_transient');
  /** Each queued SQLSTATE makes one apply fail with it, for real, on the server. */
  const failWith: Array<'57014' | '55P03'> = [];
  let es: EventStoreHandle;
  let holder: Client;
  const faults: ProjectionFault[] = [];

  const flaky = (inner: Projection): Projection => ({
    ...inner,
    async apply(events, sql, t) {
      const code = failWith.shift();
      if (code === '57014') {
        await sql.query('SET LOCAL statement_timeout = 1');
        await sql.query('SELECT pg_sleep(1)');
      } else if (code === '55P03') {
        await sql.query('SET LOCAL lock_timeout = 1');
        await sql.query(`SELECT count(*) FROM "${schema}".held_by_the_test`);
      }
      return inner.apply(events, sql, t);
    },
  });

  beforeAll(async () => {
    es = await createEventStore({
      url: TEST_DATABASE_URL,
      schema,
      events: [depositedEvent],
      poolSize: 3,
      projections: [flaky(balancesProjection({ name: NAME }))],
      // Small batches: with the old classification, the isolation search reaches a single event in
      // three failing applies (4, 2, 1) and stops the projection on it.
      projectionBatchSize: 4,
      projectionPollMs: 20,
    });
    await seedDeposits(es.db, schema, 40, 4);
    await es.db.query(`CREATE TABLE "${schema}".held_by_the_test (id int)`);
    holder = new Client({ connectionString: TEST_DATABASE_URL });
    await holder.connect();
    await holder.query('BEGIN');
    await holder.query(`LOCK TABLE "${schema}".held_by_the_test IN ACCESS EXCLUSIVE MODE`);
    es.projections.onFault((f) => faults.push(f));
  }, 30_000);
  afterAll(async () => {
    await holder?.end();
    await es?.close();
    await dropSchema(schema);
  });

  it('retries with backoff, shows the streak while retrying, never stops, and applies every event exactly once', async () => {
    failWith.push('57014', '55P03', '57014', '55P03', '57014');
    await es.projections.start();
    const retrying = await eventually(
      async () => {
        const [s] = await es.projections.status();
        return s.retrying.length ? s : undefined;
      },
      20_000,
      'the status to show the streak of failed attempts',
    );
    expect(retrying).toMatchObject<Partial<ProjectionStatus>>({ state: 'running', lastError: null });
    expect(retrying.retrying).toEqual([
      {
        scope: 'projection',
        attempts: expect.any(Number),
        code: expect.stringMatching(/^(57014|55P03)$/),
        reason: expect.any(String),
        since: expect.any(String),
        nextAttemptAt: expect.any(String),
      },
    ]);
    expect(retrying.retrying[0].attempts).toBeGreaterThanOrEqual(3);

    const head = await es.store.headPosition();
    expect(await es.projections.waitFor(NAME, head, 30_000)).toBe(true);
    const [after] = await es.projections.status();
    expect(after).toMatchObject({ state: 'running', lastError: null, retrying: [], checkpoint: head });
    expect(failWith).toEqual([]);
    const model = await readModelSnapshot(es.db, schema, NAME);
    expect(model).toMatchObject({ applied: head, distinctApplied: head, events: head, total: model.expectedTotal });
    expect(faults.map((f) => `${f.outcome} ${f.code}`)).toEqual(['57014', '55P03', '57014', '55P03', '57014'].map((c) => `retry ${c}`));
  }, 60_000);
});
