import { Logger } from '@nestjs/common';
import { Client } from 'pg';
import { createEventStore, EventStoreHandle } from '../create-event-store';
import { balanceDifferences, balancesProjection, depositedEvent, seedDeposits } from '../testing/balances-projection';
import { eventually } from '../../../../test/eventually';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '../testing/test-database';
import type { Projection, ProjectionFault } from './projection';
import type { ProjectionStatus } from './projection-state';
import { ProjectionStateError } from './projections.service';

const NAME = 'fail_bal';
const status = async (es: EventStoreHandle): Promise<ProjectionStatus> => (await es.projections.status())[0];
const deposit = async (es: EventStoreHandle, amount: number) =>
  (await es.store.appendToStream(`acct-${amount % 3}`, [{ type: 'Deposited', schemaVersion: 1, data: { amount } }])).position;

function open(schema: string, projection: Projection, switchLockTimeoutMs?: number): Promise<EventStoreHandle> {
  return createEventStore({
    url: TEST_DATABASE_URL,
    schema,
    events: [depositedEvent],
    poolSize: 3,
    projections: [projection],
    projectionBatchSize: 200,
    projectionPollMs: 20,
    projectionSwitchLockTimeoutMs: switchLockTimeoutMs,
  });
}

/**
 * v2's `createTables` throws: its rebuild stops on that (state, error, position, a metric, one
 * log line) and the v1 instance takes the live model back and keeps it following the log. Before,
 * the v2 instance retried the preparation about 17 times a second forever, the status said
 * `rebuilding` with no error, and the live model stood still.
 */
describe('a rebuild whose preparation fails', () => {
  const schema = uniqueSchema('es_proj_rb_prep');
  const opened: EventStoreHandle[] = [];
  afterAll(async () => {
    await Promise.all(opened.map((h) => h.close()));
    await dropSchema(schema);
  });

  it('stops alone and visibly, once; the live v1 model keeps following the log; retry after the fix switches', async () => {
    const v1 = await open(schema, balancesProjection({ name: NAME }));
    opened.push(v1);
    await seedDeposits(v1.db, schema, 500, 10);
    await v1.projections.start();
    expect(await v1.projections.waitFor(NAME, 500, 30_000)).toBe(true);

    const broken = { yes: true, creates: 0 };
    const v2Rules = balancesProjection({ name: NAME, version: 2, scale: 10 });
    const v2 = await open(schema, {
      ...v2Rules,
      async createTables(sql, t) {
        broken.creates++;
        if (broken.yes) throw new Error('v2 createTables: syntax error in the new index');
        await v2Rules.createTables(sql, t);
      },
    });
    opened.push(v2);
    const faults: ProjectionFault[] = [];
    v2.projections.onFault((f) => faults.push(f));
    const errors = jest.spyOn(Logger.prototype, 'error');
    await v2.projections.start();

    const stopped = await eventually(
      async () => {
        const s = await status(v1);
        return s.rebuild?.state === 'stopped-on-error' ? s : undefined;
      },
      20_000,
      'the v2 rebuild to stop on its preparation',
    );
    expect(stopped).toMatchObject({ state: 'rebuild-stopped-on-error', version: 1, lastError: null });
    expect(stopped.rebuild).toMatchObject({ version: 2, prepared: false, position: 0 });
    expect(stopped.rebuild!.error).toEqual({
      position: 0,
      code: 'PROJECTION.REBUILD_FAILED',
      reason: 'prepare failed: v2 createTables: syntax error in the new index',
      at: expect.any(String),
      phase: 'rebuild',
      step: 'prepare',
    });

    // The live model follows the log again, under v1 (appends after the stop, and before it).
    for (let i = 1; i <= 3; i++) {
      const written = await deposit(v1, i);
      expect(await v1.projections.waitFor(NAME, written, 20_000)).toBe(true);
    }
    expect(await balanceDifferences(v1.db, schema, NAME, 1)).toEqual([]);
    expect(broken.creates).toBe(1);
    expect(faults).toEqual([{ projection: NAME, scope: 'rebuild', outcome: 'stop', code: 'PROJECTION.REBUILD_FAILED' }]);
    expect(errors.mock.calls.filter(([m]) => String(m).includes('REBUILD_FAILED'))).toHaveLength(1);
    errors.mockRestore();

    // Nothing to skip in a failed step: retry it (after the fix) or abort it.
    await expect(v2.projections.skip(NAME, 0, 'rebuild')).rejects.toBeInstanceOf(ProjectionStateError);
    broken.yes = false;
    expect(await v2.projections.retry(NAME, 'rebuild')).toEqual(['rebuild']);
    await eventually(async () => (await status(v2)).version === 2, 30_000, 'the fixed v2 rebuild to switch');
    expect(await balanceDifferences(v2.db, schema, NAME, 10)).toEqual([]);
  }, 90_000);
});

/**
 * The switch behind an open `REPEATABLE READ` reader of the live table (what `pg_dump` holds):
 * it takes its locks up front under the lock timeout and backs off, so plain reads of the live
 * table never queue behind it longer than that; once the reader ends, it switches.
 */
describe('a rebuild switch behind an open reader', () => {
  const schema = uniqueSchema('es_proj_rb_switch');
  const LOCK_TIMEOUT_MS = 300;
  /** Scheduling slack of a busy two-core machine on top of the bound. */
  const SLACK_MS = 700;
  let es: EventStoreHandle;
  const clients: Client[] = [];
  const connect = async () => {
    const c = new Client({ connectionString: TEST_DATABASE_URL });
    await c.connect();
    clients.push(c);
    return c;
  };
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.end()));
    await es?.close();
    await dropSchema(schema);
  });

  it('lets reads through within the lock timeout while it retries, and switches after the reader ends', async () => {
    es = await open(schema, balancesProjection({ name: NAME }), LOCK_TIMEOUT_MS);
    await seedDeposits(es.db, schema, 1000, 10);
    await es.projections.start();
    expect(await es.projections.waitFor(NAME, 1000, 30_000)).toBe(true);
    const live = `"${schema}"."${NAME}"`;
    const faults: ProjectionFault[] = [];
    es.projections.onFault((f) => faults.push(f));

    const dump = await connect();
    await dump.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
    await dump.query(`SELECT count(*) FROM ${live}`);
    const [probe, reads] = [await connect(), await connect()];
    await reads.query(`SET statement_timeout = ${LOCK_TIMEOUT_MS + 10 * SLACK_MS}`); // the old switch waits for ever
    const switchWaiting = () =>
      eventually(
        async () => (await probe.query('SELECT 1 FROM pg_locks WHERE NOT granted AND relation = to_regclass($1)', [live])).rows.length > 0,
        20_000,
        'the switch to wait for its lock on the live table',
        { everyMs: 5 },
      );

    await es.projections.rebuild(NAME);
    const waits: number[] = [];
    for (let i = 0; i < 3; i++) {
      await switchWaiting();
      const started = Date.now();
      await reads.query(`SELECT count(*) FROM ${live}`);
      waits.push(Date.now() - started);
    }
    expect(Math.max(...waits)).toBeLessThan(LOCK_TIMEOUT_MS + SLACK_MS);
    const retrying = await eventually(async () => (await status(es)).retrying[0], 20_000, 'the switch retries to show');
    expect(retrying).toMatchObject({ scope: 'rebuild', code: expect.stringMatching(/^(55P03|57014)$/) });
    expect((await status(es)).state).toBe('rebuilding');

    await dump.query('COMMIT');
    // The streak ends when the switch's step returns, just after its commit: wait for both.
    const done = await eventually(
      async () => {
        const s = await status(es);
        return s.rebuild === null && s.retrying.length === 0 ? s : undefined;
      },
      20_000,
      'the switch after the reader ended',
    );
    expect(done).toMatchObject({ state: 'running', lastError: null });
    expect(await balanceDifferences(es.db, schema, NAME)).toEqual([]);
    expect(faults.length).toBeGreaterThanOrEqual(3);
    expect(faults.every((f) => f.scope === 'rebuild' && f.outcome === 'retry')).toBe(true);
  }, 90_000);
});
