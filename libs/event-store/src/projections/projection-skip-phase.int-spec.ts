import { createEventStore, EventStoreHandle } from '../create-event-store';
import { balanceDifferences, balancesProjection, Deposited, depositedEvent, seedDeposits } from '../testing/balances-projection';
import { eventually } from '../../../../test/eventually';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '../testing/test-database';
import type { RecordedEvent } from '../types';
import type { ProjectionStatus } from './projection-state';

const NAME = 'skip_bal';
/** Amounts the seed never writes (it writes 1..97): v2 refuses them, v1 applies them. */
const [FIRST_BAD, SECOND_BAD] = [1013, 1014];

/**
 * The operator's story of issue 17: v1 is live, v2's rebuild stops on an event only v2 cannot
 * apply, the operator skips it "in the rebuild only", then aborts v2. The v1 model must still
 * get that event: a rebuild skip holds for that rebuild, never for the live model.
 */
describe('a rebuild-only skip, then an abort of that rebuild', () => {
  const schema = uniqueSchema('es_proj_skip_phase');
  const opened: EventStoreHandle[] = [];
  const open = async (version: number, scale: number, failOn?: (e: RecordedEvent<Deposited>) => boolean) => {
    const handle = await createEventStore({
      url: TEST_DATABASE_URL,
      schema,
      events: [depositedEvent],
      poolSize: 3,
      projections: [balancesProjection({ name: NAME, version, scale, failOn })],
      projectionBatchSize: 100,
      projectionPollMs: 20,
    });
    opened.push(handle);
    return handle;
  };
  const status = async (es: EventStoreHandle): Promise<ProjectionStatus> => (await es.projections.status())[0];
  const deposit = async (es: EventStoreHandle, account: string, amount: number) =>
    (await es.store.appendToStream(account, [{ type: 'Deposited', schemaVersion: 1, data: { amount } }])).position;
  const rebuildStoppedAt = (es: EventStoreHandle, position: number) =>
    eventually(
      async () => {
        const s = await status(es);
        return s.rebuild?.state === 'stopped-on-error' && s.rebuild.error?.position === position ? s : undefined;
      },
      30_000,
      `the v2 rebuild to stop at ${position}`,
    );

  afterAll(async () => {
    await Promise.all(opened.map((h) => h.close()));
    await dropSchema(schema);
  });

  it('leaves the skipped event in the live v1 model, which applies every event after the abort', async () => {
    const v1 = await open(1, 1);
    await seedDeposits(v1.db, schema, 500, 10);
    await v1.projections.start();
    expect(await v1.projections.waitFor(NAME, await v1.store.headPosition(), 30_000)).toBe(true);
    // The v1 instance goes away before the events that v2 refuses: its checkpoint stays below them.
    await v1.close();
    opened.splice(opened.indexOf(v1), 1);

    const v2 = await open(2, 10, (e) => e.data.amount === FIRST_BAD || e.data.amount === SECOND_BAD);
    const deposit100 = await deposit(v2, 'acct-deposit', 100);
    const refused = await deposit(v2, 'acct-refused', FIRST_BAD);
    const refusedToo = await deposit(v2, 'acct-refused', SECOND_BAD);
    const head = await deposit(v2, 'acct-after', 7);
    await v2.projections.start();

    await rebuildStoppedAt(v2, refused);
    expect(await v2.projections.skip(NAME, refused, 'rebuild')).toEqual(['rebuild']);
    await rebuildStoppedAt(v2, refusedToo); // the second refusal keeps v2 from switching before the abort
    expect((await status(v2)).skipped).toEqual([
      expect.objectContaining({ position: refused, phase: 'rebuild', rebuild: { version: 2, startedAt: expect.any(String) } }),
    ]);
    await v2.projections.abortRebuild(NAME);

    const v1Again = await open(1, 1);
    await v1Again.projections.start();
    expect(await v1Again.projections.waitFor(NAME, head, 30_000)).toBe(true);
    expect(await status(v1Again)).toMatchObject({ version: 1, state: 'running', lastError: null, rebuild: null, checkpoint: head });
    // Every deposit is in v1's balances, the rebuild-only skip and the one after it included.
    expect(await balanceDifferences(v1Again.db, schema, NAME)).toEqual([]);
    const rows = await v1Again.db.query(`SELECT position FROM "${schema}"."${NAME}_applied" WHERE position = ANY($1::bigint[])`, [
      [deposit100, refused, refusedToo, head],
    ]);
    expect(rows).toHaveLength(4);
  }, 90_000);
});
