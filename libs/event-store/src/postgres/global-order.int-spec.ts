import { IsInt } from 'class-validator';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { createEventStore, EventStoreHandle } from '../create-event-store';
import { defineEvent } from '../registry/event-definition';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '../testing/test-database';

class Tick {
  @IsInt() n: number;
}
const events = [defineEvent({ type: 'Tick', version: 1, eventClass: Tick })];

/**
 * The global-order guarantee: positions are drawn before commit, so commit
 * order differs from position order and rolled-back transactions leave gaps.
 * A follower of the log must still see every committed event exactly once,
 * in position order, never skipping one that commits after a higher one.
 */
describe('readAll follows the log without skipping late commits', () => {
  const schema = uniqueSchema();
  let es: EventStoreHandle;
  beforeAll(async () => {
    es = await createEventStore({ url: TEST_DATABASE_URL, schema, events, poolSize: 40 });
  });
  afterAll(async () => {
    await es?.close();
    await dropSchema(schema);
  });

  it('sees every committed event exactly once, in order, while 30 writers commit out of order and some roll back', async () => {
    const writers = 30;
    const appendsPerWriter = 12;
    let running = writers;
    const committed = new Set<number>();
    let rolledBack = 0;
    const writer = async (w: number) => {
      for (let i = 0; i < appendsPerWriter; i++) {
        const rollback = Math.random() < 0.25;
        try {
          await es.store.inTransaction(async (q) => {
            const r = await es.store.appendWithin(q, `w${w}-${randomUUID()}`, [
              { type: 'Tick', schemaVersion: 1, data: { n: i } },
              { type: 'Tick', schemaVersion: 1, data: { n: i } },
            ]);
            // Hold the transaction open for a random while so later positions commit first.
            await sleep(Math.random() * 40);
            if (rollback) throw new Error('rollback on purpose');
            return r;
          });
          // Both events of the append committed; record their positions from the store below.
        } catch (e) {
          if ((e as Error).message !== 'rollback on purpose') throw e;
          rolledBack++;
        }
      }
      running--;
    };

    const seen: number[] = [];
    const follower = async () => {
      let next = 1;
      for (;;) {
        const done = running === 0;
        const batch = await es.store.readBatch(next, Number.MAX_SAFE_INTEGER, 7);
        for (const e of batch) seen.push(e.position);
        if (batch.length) next = batch[batch.length - 1].position + 1;
        else if (done) return;
        else await sleep(2);
      }
    };

    await Promise.all([...Array.from({ length: writers }, (_, w) => writer(w)), follower()]);
    const rows: Array<{ position: string }> = await es.dataSource.query(
      `SELECT position FROM "${schema}".events ORDER BY position`,
    );
    rows.forEach((r) => committed.add(Number(r.position)));

    expect(rolledBack).toBeGreaterThan(0);
    expect(committed.size).toBe((writers * appendsPerWriter - rolledBack) * 2);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(seen).toEqual([...committed]);
    // Rolled-back transactions really left gaps in the sequence, which the follower stepped over.
    const max = Math.max(...committed);
    expect(max).toBeGreaterThan(committed.size);
  });
});
