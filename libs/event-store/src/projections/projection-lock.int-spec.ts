import { setTimeout as sleep } from 'node:timers/promises';
import { createEventStore, EventStoreHandle } from '../create-event-store';
import { balanceDifferences, balancesProjection, depositedEvent, readModelSnapshot, seedDeposits } from '../testing/balances-projection';
import { eventually } from '../../../../test/eventually';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '../testing/test-database';

const NAME = 'lock_bal';
const TOTAL = 30_000;

interface BatchRow {
  runner: string;
  pid: number;
  first_position: string;
  last_position: string;
  started_at: Date;
  ended_at: Date;
}

/**
 * Two instances (two pools) run the same projection on the same log: the
 * advisory lock lets exactly one apply at a time, and when the holder's
 * connection dies the other takes over within seconds without applying any
 * event twice.
 */
describe('one active runner per projection across instances', () => {
  const schema = uniqueSchema('es_proj_lock');
  let a: EventStoreHandle;
  let b: EventStoreHandle | undefined;
  const open = (runnerId: string) =>
    createEventStore({
      url: TEST_DATABASE_URL,
      schema,
      events: [depositedEvent],
      poolSize: 4,
      projections: [balancesProjection({ name: NAME, runnerId })],
      projectionBatchSize: 200,
      projectionPollMs: 50,
    });
  const active = async (h: EventStoreHandle) => (await h.projections.status())[0].activeHere;
  const checkpoint = () => a.projections.checkpoint(NAME);
  /** Samples both instances several times: exactly one is active, and it is `expected`. */
  const expectOnlyActive = async (expected: EventStoreHandle, other: EventStoreHandle, samples = 8) => {
    for (let i = 0; i < samples; i++) {
      expect([await active(expected), await active(other)]).toEqual([true, false]);
      // Real time must pass between samples: the claim is about a span (320 ms) covering several of the
      // standby's lock attempts (every two 50 ms polls), not about one moment.
      await sleep(40);
    }
  };

  beforeAll(async () => {
    a = await open('a');
    b = await open('b');
    await seedDeposits(a.db, schema, TOTAL, 300);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await dropSchema(schema);
  });

  it("applies on one instance only, hands over when the holder's lock connection is terminated, and stays exactly-once", async () => {
    await a.projections.start();
    await eventually(() => active(a), 5_000, 'instance a to take the lock');
    await b!.projections.start();
    await eventually(async () => (await checkpoint()) >= 2_000, 20_000, 'a to make progress');
    await expectOnlyActive(a, b!);

    const holders = await a.db.query<any>(
      `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 2 AND objid = hashtext($1)::oid
          AND pid IN (SELECT pid FROM "${schema}"."${NAME}_batches" WHERE runner = 'a')`,
      [NAME],
    );
    expect(holders).toHaveLength(1);
    const killedAt = await checkpoint();
    expect(killedAt).toBeLessThan(TOTAL);
    const [{ terminated }] = await a.db.query<any>('SELECT pg_terminate_backend($1) AS terminated', [holders[0].pid]);
    expect(terminated).toBe(true);

    const t0 = Date.now();
    await eventually(async () => (await active(b!)) && !(await active(a)), 5_000, 'b to take over');
    const handoverMs = Date.now() - t0;
    expect(handoverMs).toBeLessThan(5_000);
    await expectOnlyActive(b!, a);
    await eventually(async () => (await checkpoint()) === TOTAL, 30_000, 'b to finish');

    const model = await readModelSnapshot(a.db, schema, NAME);
    expect(model).toMatchObject({ checkpoint: TOTAL, applied: TOTAL, distinctApplied: TOTAL, events: TOTAL });
    expect(model.total).toBe(model.expectedTotal);
    expect(await balanceDifferences(a.db, schema, NAME)).toEqual([]);

    // Committed batches tile the log in order and never overlapped in time: a's, then b's, one backend each.
    const batches: BatchRow[] = await a.db.query(`SELECT * FROM "${schema}"."${NAME}_batches" ORDER BY first_position`);
    for (let i = 1; i < batches.length; i++) {
      expect(Number(batches[i].first_position)).toBeGreaterThan(Number(batches[i - 1].last_position));
      expect(batches[i].started_at.getTime()).toBeGreaterThanOrEqual(batches[i - 1].ended_at.getTime());
    }
    const runners = batches.map((x) => x.runner);
    const firstOfB = runners.indexOf('b');
    expect(firstOfB).toBeGreaterThan(0);
    expect(runners.slice(0, firstOfB).every((r) => r === 'a')).toBe(true);
    expect(runners.slice(firstOfB).every((r) => r === 'b')).toBe(true);
    expect(new Set(batches.filter((x) => x.runner === 'a').map((x) => x.pid))).toEqual(new Set([holders[0].pid]));
    expect(Number(batches[firstOfB].first_position)).toBeGreaterThan(killedAt);
  }, 90_000);

  it('hands back to the standby when the active instance shuts down, and the standby applies new events', async () => {
    const before = await checkpoint();
    await b!.close();
    b = undefined;
    await eventually(() => active(a), 5_000, 'a to take the lock back');
    for (let i = 0; i < 20; i++) {
      await a.store.appendToStream(`acct-${i % 3}`, [{ type: 'Deposited', schemaVersion: 1, data: { amount: i + 1 } }]);
    }
    // The settled head can trail for a moment: any transaction open in the cluster (the runner's own
    // batch included) holds the visibility horizon until it ends (ADR 0002).
    const head = await eventually(
      async () => ((await a.store.headPosition()) === before + 20 ? before + 20 : 0),
      5_000,
      'the head to settle',
    );
    expect(await a.projections.waitFor(NAME, head, 10_000)).toBe(true);
    const model = await readModelSnapshot(a.db, schema, NAME);
    expect(model).toMatchObject({ checkpoint: head, applied: head, distinctApplied: head, events: head });
    expect(await balanceDifferences(a.db, schema, NAME)).toEqual([]);
    const [last] = await a.db.query<any>(`SELECT runner FROM "${schema}"."${NAME}_batches" ORDER BY first_position DESC LIMIT 1`);
    expect(last.runner).toBe('a');
  }, 30_000);
});
