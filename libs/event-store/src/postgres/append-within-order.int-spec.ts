import { randomUUID } from 'node:crypto';
import { eventually } from '../../../../test/eventually';
import { createEventStore, EventStoreHandle } from '../create-event-store';
import { deferred } from '../testing/append-probes';
import { note, notedEvents as events } from '../testing/noted-events';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '../testing/test-database';

/**
 * Promise: `appendWithin` keeps the global order whatever the caller's
 * transaction did before (other writes, earlier appends). Each test forces the
 * interleaving that used to break it: transaction A gets its transaction id
 * first, B appends (lower position) and stays open, A appends (higher
 * position) and commits. A global reader that runs now must not return A's
 * event before B's is settled, or it moves past B's position for good.
 */
describe('appendWithin keeps the global order', () => {
  const schema = uniqueSchema();
  let es: EventStoreHandle;
  beforeAll(async () => {
    es = await createEventStore({ url: TEST_DATABASE_URL, schema, events, poolSize: 6 });
    await es.db.query(`CREATE TABLE "${schema}".side_rows (id uuid PRIMARY KEY)`);
  });
  afterAll(async () => {
    await es?.close();
    await dropSchema(schema);
  });

  /** A follower of the global log, like a projection: reads what is settled and moves its checkpoint. */
  const follower = (from: number) => {
    const seen: number[] = [];
    let next = from;
    return {
      seen,
      async catchUp() {
        for (;;) {
          const batch = await es.store.readBatch(next, Number.MAX_SAFE_INTEGER, 100);
          if (!batch.length) return;
          seen.push(...batch.map((e) => e.position));
          next = batch[batch.length - 1].position + 1;
        }
      },
    };
  };

  /** Runs the interleaving; `firstStepOfA` is what A does before B appends. Returns positions in append order and what the follower saw. */
  async function interleave(firstStepOfA: (q: Parameters<Parameters<typeof es.store.inTransaction>[0]>[0]) => Promise<number[]>) {
    const aStarted = deferred<number[]>();
    const bAppended = deferred<number>();
    const bCommit = deferred();
    const aAppendNow = deferred();
    const a = es.store.inTransaction(async (q) => {
      aStarted.resolve(await firstStepOfA(q));
      await aAppendNow.promise;
      return (await es.store.appendWithin(q, `a-${randomUUID()}`, [note(2)])).position;
    });
    const before = await aStarted.promise;
    const b = es.store.inTransaction(async (q) => {
      bAppended.resolve((await es.store.appendWithin(q, `b-${randomUUID()}`, [note(1)])).position);
      await bCommit.promise;
    });
    const bPosition = await bAppended.promise;
    aAppendNow.resolve();
    const aPosition = await a;
    expect(aPosition).toBeGreaterThan(bPosition);
    const reader = follower(Math.min(bPosition, ...before));
    await reader.catchUp(); // A committed, B still open
    bCommit.resolve();
    await b;
    // Both committed: once every older transaction in the cluster has ended, the follower must get everything.
    await eventually(async () => (await es.store.headPosition()) >= aPosition, 5000, 'both transactions to be settled');
    await reader.catchUp();
    return { positions: [...before, bPosition, aPosition].sort((x, y) => x - y), seen: reader.seen };
  }

  it('after another write in the same transaction', async () => {
    const { positions, seen } = await interleave(async (q) => {
      await q.query(`INSERT INTO "${schema}".side_rows (id) VALUES ($1)`, [randomUUID()]);
      return [];
    });
    expect(seen).toEqual(positions);
  });

  it('for a second append in the same transaction', async () => {
    const { positions, seen } = await interleave(async (q) => [(await es.store.appendWithin(q, `a0-${randomUUID()}`, [note(0)])).position]);
    expect(seen).toEqual(positions);
  });

  it('after a SELECT ... FOR UPDATE (which also takes a transaction id)', async () => {
    const id = randomUUID();
    await es.db.query(`INSERT INTO "${schema}".side_rows (id) VALUES ($1)`, [id]);
    const { positions, seen } = await interleave(async (q) => {
      await q.query(`SELECT id FROM "${schema}".side_rows WHERE id = $1 FOR UPDATE`, [id]);
      return [];
    });
    expect(seen).toEqual(positions);
  });
});
