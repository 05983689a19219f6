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
    await es.db.query(`CREATE TABLE "${schema}".side_rows (id uuid PRIMARY KEY)`);
  });
  afterAll(async () => {
    await es?.close();
    await dropSchema(schema);
  });

  const transactions = {
    'one append per transaction': [['append']],
    // appendWithin after other writes and several appends per transaction: the app's idempotency-key and
    // email-reservation rows go in the same transaction as the events.
    'rows before, between and after several appends': [
      ['write', 'append', 'write', 'append'],
      ['append', 'append', 'write'],
      ['write', 'append'],
    ],
  } as const;

  it.each(Object.keys(transactions) as Array<keyof typeof transactions>)(
    'sees every committed event exactly once, in order, while 30 writers commit out of order and some roll back (%s)',
    async (shape) => {
      const writers = 30;
      const appendsPerWriter = 12;
      let running = writers;
      const committed = new Set<number>();
      let rolledBack = 0;
      let committedAppends = 0;
      const writer = async (w: number) => {
        for (let i = 0; i < appendsPerWriter; i++) {
          const rollback = Math.random() < 0.25;
          try {
            const steps = transactions[shape][(w + i) % transactions[shape].length];
            await es.store.inTransaction(async (q) => {
              const stream = `w${w}-${randomUUID()}`;
              for (const step of steps) {
                if (step === 'write') await q.query(`INSERT INTO "${schema}".side_rows (id) VALUES ($1)`, [randomUUID()]);
                else {
                  await es.store.appendWithin(q, stream, [
                    { type: 'Tick', schemaVersion: 1, data: { n: i } },
                    { type: 'Tick', schemaVersion: 1, data: { n: i } },
                  ]);
                }
                // Hold the transaction open for a random while so later positions commit first.
                await sleep(Math.random() * 20);
              }
              if (rollback) throw new Error('rollback on purpose');
            });
            committedAppends += steps.filter((s) => s === 'append').length;
          } catch (e) {
            if ((e as Error).message !== 'rollback on purpose') throw e;
            rolledBack++;
          }
        }
        running--;
      };

      const start = (await es.store.headPosition()) + 1;
      const seen: number[] = [];
      // Writers are done: everything up to here is committed; global readers get it once older transactions in the
      // cluster (other test runs share the server) have ended.
      const lastWritten = async () =>
        Number((await es.db.query<any>(`SELECT coalesce(max(position), 0) AS p FROM "${schema}".events`))[0].p);
      const follower = async () => {
        let next = start;
        for (;;) {
          const done = running === 0;
          const batch = await es.store.readBatch(next, Number.MAX_SAFE_INTEGER, 7);
          for (const e of batch) seen.push(e.position);
          if (batch.length) next = batch[batch.length - 1].position + 1;
          else if (done && next > (await lastWritten())) return;
          else await sleep(2); // the follower under test is a polling global reader: this is its poll interval
        }
      };

      await Promise.all([...Array.from({ length: writers }, (_, w) => writer(w)), follower()]);
      const rows: Array<{ position: string }> = await es.db.query(
        `SELECT position FROM "${schema}".events WHERE position >= $1 ORDER BY position`,
        [start],
      );
      rows.forEach((r) => committed.add(Number(r.position)));

      expect(rolledBack).toBeGreaterThan(0);
      expect(committed.size).toBe(committedAppends * 2);
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen).toEqual([...seen].sort((a, b) => a - b));
      expect(seen).toEqual([...committed]);
      // Rolled-back transactions really left gaps in the sequence, which the follower stepped over.
      const max = Math.max(...committed);
      expect(max - start + 1).toBeGreaterThan(committed.size);
    },
  );
});
