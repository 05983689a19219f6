import { createEventStore, type EventStoreHandle } from '@app/event-store';
import { balanceDifferences, balancesProjection, depositedEvent, readModelSnapshot, seedDeposits } from '@app/event-store/testing';
import { eventually } from '../../../test/eventually';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '@app/event-store/testing';
import { TcpProxy } from '../../../test/tcp-proxy';

const NAME = 'freeze_bal';
const TOTAL = 6_000;
const BOUND_MS = 2_000;
const POLL_MS = 50;

interface BatchRow {
  runner: string;
  first_position: string;
  last_position: string;
  started_at: Date;
  ended_at: Date;
}

/**
 * The projection-lock bound: a holder whose link to PostgreSQL freezes (no
 * bytes either way, no socket closed, so TCP alone notices nothing) loses
 * the lock once the server has heard nothing from it for
 * `projectionLockTimeoutMs`; a standby takes over within two polls after
 * that, and exactly-once holds across the handover.
 */
describe('a frozen projection-lock holder loses the lock within the configured bound', () => {
  const schema = uniqueSchema('es_proj_freeze');
  const target = new URL(TEST_DATABASE_URL);
  const proxy = new TcpProxy(target.hostname, Number(target.port || 5432));
  let a: EventStoreHandle | undefined;
  let b: EventStoreHandle | undefined;
  const open = async (url: string, runnerId: string) =>
    createEventStore({
      url,
      schema,
      events: [depositedEvent],
      poolSize: 3,
      projections: [balancesProjection({ name: NAME, runnerId })],
      projectionBatchSize: 100,
      projectionPollMs: POLL_MS,
      projectionLockTimeoutMs: BOUND_MS,
    });
  const active = async (h: EventStoreHandle) => (await h.projections.status())[0].activeHere;

  beforeAll(async () => {
    await proxy.start();
    const viaProxy = new URL(TEST_DATABASE_URL);
    viaProxy.host = `127.0.0.1:${proxy.port}`;
    a = await open(viaProxy.toString(), 'a');
    b = await open(TEST_DATABASE_URL, 'b');
    await seedDeposits(b.db, schema, TOTAL, 200);
  }, 60_000);
  afterAll(async () => {
    proxy.thaw();
    await Promise.all([a?.close(), b?.close()]);
    await proxy.cut();
    await dropSchema(schema);
  });

  it('holds the lock while frozen for about the bound, then the standby takes over and finishes exactly once', async () => {
    await a!.projections.start();
    await eventually(() => active(a!), 5_000, 'a to take the lock');
    await b!.projections.start();
    await eventually(async () => (await b!.projections.checkpoint(NAME)) >= 500, 20_000, 'a to make progress');
    expect(await active(b!)).toBe(false);

    proxy.freeze();
    const frozenAt = Date.now();
    await eventually(() => active(b!), BOUND_MS * 5, 'b to take over', { everyMs: 10 });
    const takeoverMs = Date.now() - frozenAt;
    process.stdout.write(`frozen holder: standby took over after ${takeoverMs} ms (bound ${BOUND_MS} ms, poll ${POLL_MS} ms)\n`);
    // Not before the server gave up on the silent session (it was last heard at most a poll before the freeze) ...
    expect(takeoverMs).toBeGreaterThanOrEqual(BOUND_MS - 2 * POLL_MS);
    // ... and within the bound plus the standby's two-poll retry (slack for a busy machine).
    expect(takeoverMs).toBeLessThan(BOUND_MS + 2 * POLL_MS + 1_500);

    expect(await b!.projections.waitFor(NAME, TOTAL, 30_000)).toBe(true);
    proxy.thaw();
    // Thawed, the old holder finds its session gone: it cannot commit anything, and stands by.
    await eventually(async () => !(await active(a!)), 10_000, 'a to notice it lost the lock');
    expect(await active(b!)).toBe(true);

    const model = await readModelSnapshot(b!.db, schema, NAME);
    expect(model).toMatchObject({ checkpoint: TOTAL, applied: TOTAL, distinctApplied: TOTAL, events: TOTAL });
    expect(model.total).toBe(model.expectedTotal);
    expect(await balanceDifferences(b!.db, schema, NAME)).toEqual([]);
    const batches: BatchRow[] = await b!.db.query(`SELECT * FROM "${schema}"."${NAME}_batches" ORDER BY first_position`);
    const runners = batches.map((x) => x.runner);
    const firstOfB = runners.indexOf('b');
    expect(firstOfB).toBeGreaterThan(0);
    expect(runners.slice(firstOfB).every((r) => r === 'b')).toBe(true);
    for (let i = 1; i < batches.length; i++) {
      expect(Number(batches[i].first_position)).toBeGreaterThan(Number(batches[i - 1].last_position));
      expect(batches[i].started_at.getTime()).toBeGreaterThanOrEqual(batches[i - 1].ended_at.getTime());
    }
  }, 60_000);
});
