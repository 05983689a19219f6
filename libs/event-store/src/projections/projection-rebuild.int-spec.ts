import { Logger } from '@nestjs/common';
import { Client } from 'pg';
import { setTimeout as sleep } from 'node:timers/promises';
import { createEventStore, EventStoreHandle } from '../create-event-store';
import { balanceDifferences, balancesProjection, depositedEvent, readModelSnapshot, seedDeposits } from '../testing/balances-projection';
import { eventually } from '../../../../test/eventually';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '../testing/test-database';
import type { ProjectionStatus } from './projection-state';

const NAME = 'rb_bal';
const TOTAL = 20_000;
const STREAMS = 500;

interface Read {
  accounts: number;
  total: number;
  events: number;
}
const isEqual = (a: Read, b: Read) => a.accounts === b.accounts && a.total === b.total && a.events === b.events;

/** Readers querying the live table in a tight loop, each on its own connection, recording every answer. */
class Readers {
  readonly reads: Read[][] = [];
  readonly errors: string[] = [];
  private running = true;
  private loops: Promise<void>[] = [];

  constructor(
    private readonly schema: string,
    private readonly count = 3,
  ) {}

  async start(): Promise<void> {
    for (let i = 0; i < this.count; i++) {
      const client = new Client({ connectionString: TEST_DATABASE_URL });
      await client.connect();
      const reads: Read[] = [];
      this.reads.push(reads);
      this.loops.push(
        (async () => {
          try {
            while (this.running) {
              try {
                const {
                  rows: [r],
                } = await client.query(
                  `SELECT count(*)::int AS accounts, coalesce(sum(total), 0)::bigint AS total, coalesce(sum(events), 0)::bigint AS events
                   FROM "${this.schema}"."${NAME}"`,
                );
                reads.push({ accounts: r.accounts, total: Number(r.total), events: Number(r.events) });
              } catch (error) {
                this.errors.push((error as Error).message);
              }
            }
          } finally {
            await client.end();
          }
        })(),
      );
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  get all(): Read[] {
    return this.reads.flat();
  }
}

async function readOnce(schema: string): Promise<Read> {
  const client = new Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    const {
      rows: [r],
    } = await client.query(`SELECT count(*)::int AS accounts, sum(total)::bigint AS total, sum(events)::int AS events
                                                FROM "${schema}"."${NAME}"`);
    return { accounts: r.accounts, total: Number(r.total), events: r.events };
  } finally {
    await client.end();
  }
}

/**
 * Rebuilds fill shadow tables and swap them in with one transaction: readers
 * of the live table see the old model or the new one, never an empty or
 * half-built one; a deploy with a new projection version rebuilds by itself.
 */
describe('projection rebuilds under concurrent readers', () => {
  const schema = uniqueSchema('es_proj_rebuild');
  let es: EventStoreHandle | undefined;
  let readers: Readers | undefined;
  const open = (version: number, scale: number) =>
    createEventStore({
      url: TEST_DATABASE_URL,
      schema,
      events: [depositedEvent],
      poolSize: 4,
      projections: [balancesProjection({ name: NAME, version, scale })],
      projectionBatchSize: 500,
      projectionPollMs: 25,
    });
  const status = async () => (await es!.projections.status())[0];
  /** Polls status until the rebuild switched in, keeping every status seen meanwhile. */
  const untilSwitched = async (seen: ProjectionStatus[], timeoutMs: number) =>
    eventually(
      async () => {
        const s = await status();
        seen.push(s);
        return s.rebuild === null && seen.some((x) => x.rebuild) && s;
      },
      timeoutMs,
      'the rebuild to switch',
      { everyMs: 15 },
    );

  beforeAll(async () => {
    es = await open(1, 1);
    await seedDeposits(es.db, schema, TOTAL, STREAMS);
    await es.projections.start();
    expect(await es.projections.waitFor(NAME, TOTAL, 60_000)).toBe(true);
  }, 90_000);
  afterAll(async () => {
    await readers?.stop();
    await es?.close();
    await dropSchema(schema);
  });

  it('an operator rebuild while events are appended: reads never shrink, never see an empty model, and the rebuild switches in', async () => {
    const [base] = await es!.db.query(`SELECT count(*)::int AS accounts, sum(events)::int AS events FROM "${schema}"."${NAME}"`);
    expect(base).toEqual({ accounts: STREAMS, events: TOTAL });
    readers = new Readers(schema);
    await readers.start();
    let writing = true;
    let appended = 0;
    const writer = (async () => {
      while (writing) {
        await es!.store.appendToStream(`acct-${appended % 7}`, [
          { type: 'Deposited', schemaVersion: 1, data: { amount: 1 + (appended % 5) } },
        ]);
        appended++;
        await sleep(5); // paces the writer: a steady trickle of appends during the rebuild, not a wait for anything
      }
    })();

    await es!.projections.rebuild(NAME);
    const seen: ProjectionStatus[] = [];
    // Appends continue during the shadow fill; they stop once it has caught up (see the report on switching under load).
    await eventually(
      async () => {
        const s = await status();
        seen.push(s);
        return s.rebuild && s.rebuild.position >= TOTAL;
      },
      30_000,
      'the shadow to catch up',
      { everyMs: 15 },
    );
    writing = false;
    await writer;
    const switched = await untilSwitched(seen, 30_000);
    const head = await es!.store.headPosition();
    expect(await es!.projections.waitFor(NAME, head, 10_000)).toBe(true);
    await readers.stop();

    expect(appended).toBeGreaterThan(10);
    expect(readers.errors).toEqual([]);
    for (const reads of readers.reads) {
      expect(reads.length).toBeGreaterThan(10);
      for (let i = 0; i < reads.length; i++) {
        expect(reads[i].events).toBeGreaterThanOrEqual(TOTAL);
        expect(reads[i].accounts).toBeGreaterThanOrEqual(STREAMS);
        if (i > 0) {
          expect(reads[i].events).toBeGreaterThanOrEqual(reads[i - 1].events);
          expect(reads[i].total).toBeGreaterThanOrEqual(reads[i - 1].total);
        }
      }
    }
    // Progress of the fill, as the admin API shows it, looked sane at least once.
    const progress = seen.filter((s) => s.rebuild?.prepared && s.rebuild.position > 0 && s.rebuild.position < s.head);
    expect(progress.length).toBeGreaterThan(0);
    for (const { rebuild, head: at } of progress) {
      expect(rebuild!.percent).toBeGreaterThan(0);
      expect(rebuild!.percent).toBeLessThanOrEqual(100);
      expect(Math.abs(rebuild!.percent - (100 * rebuild!.position) / at)).toBeLessThanOrEqual(0.05);
      expect(rebuild!.eventsPerSecond).toBeGreaterThan(0);
      expect(rebuild!.etaSeconds === null || rebuild!.etaSeconds >= 0).toBe(true);
    }
    expect(seen.some((s) => s.state === 'rebuilding' && s.version === 1 && s.codeVersion === 1)).toBe(true);
    expect(switched).toMatchObject({ state: 'running', version: 1, codeVersion: 1, rebuild: null, lastError: null });
    const model = await readModelSnapshot(es!.db, schema, NAME);
    expect(model).toMatchObject({
      checkpoint: head,
      applied: TOTAL + appended,
      distinctApplied: TOTAL + appended,
      events: TOTAL + appended,
    });
    expect(model.total).toBe(model.expectedTotal);
    expect(await balanceDifferences(es!.db, schema, NAME)).toEqual([]);
  }, 90_000);

  it('a deploy with a new projection version rebuilds by itself; readers see the old model or the new one, never neither', async () => {
    await es!.close();
    es = undefined;
    const old = await readOnce(schema);
    const rebuilt = { ...old, total: old.total * 100 };
    readers = new Readers(schema);
    await readers.start();

    es = await open(2, 100);
    await es.projections.start();
    const seen: ProjectionStatus[] = [];
    const switched = await untilSwitched(seen, 60_000);
    await eventually(
      () => readers!.reads.every((reads) => reads.some((r) => r.total === rebuilt.total)),
      5_000,
      'every reader to read the rebuilt model',
      { everyMs: 5 },
    );
    await readers.stop();

    expect(readers.errors).toEqual([]);
    for (const reads of readers.reads) {
      expect(reads.length).toBeGreaterThan(10);
      const firstNew = reads.findIndex((r) => r.total === rebuilt.total);
      expect(firstNew).toBeGreaterThanOrEqual(0);
      expect(reads.slice(0, firstNew).filter((r) => !isEqual(r, old))).toEqual([]);
      expect(reads.slice(firstNew).filter((r) => !isEqual(r, rebuilt))).toEqual([]);
    }
    expect(seen.some((s) => s.state === 'rebuilding' && s.version === 1 && s.codeVersion === 2 && s.rebuild!.version === 2)).toBe(true);
    expect(switched).toMatchObject({ state: 'running', version: 2, codeVersion: 2, rebuild: null, lastError: null, lag: 0 });
    const model = await readModelSnapshot(es.db, schema, NAME, 100);
    expect(model).toMatchObject({ applied: old.events, distinctApplied: old.events, events: old.events, total: model.expectedTotal });
    expect(await balanceDifferences(es.db, schema, NAME, 100)).toEqual([]);
  }, 90_000);

  it('a rolling deploy: an old replica that takes the lock mid-rebuild leaves the newer rebuild alone; the newer code finishes it', async () => {
    await es!.close();
    es = await open(3, 1000);
    await es.projections.start();
    await eventually(async () => (await status()).rebuild?.position, 30_000, 'v3 to fill part of its shadow', { everyMs: 5 });
    await es.close();
    const warnings = jest.spyOn(Logger.prototype, 'warn');
    es = await open(2, 100); // an old replica takes the lock
    await es.projections.start();
    // Its decision, once made, cannot change while it runs alone: only newer code moves the row.
    await eventually(
      () => warnings.mock.calls.some(([message]) => String(message).includes('standing by for a newer instance')),
      10_000,
      'the old replica to take the lock and stand by for the newer rebuild',
    );
    warnings.mockRestore();
    // Whatever it does, the live model must be what its recorded version's rules say.
    const during = await status();
    expect(await balanceDifferences(es.db, schema, NAME, during.version === 3 ? 1000 : 100)).toEqual([]);
    expect(during.version).toBe(2);
    await es.close();
    es = await open(3, 1000); // the new code is back
    await es.projections.start();
    const switched = await untilSwitched([during], 30_000);
    expect(switched).toMatchObject({ state: 'running', version: 3, codeVersion: 3, rebuild: null, lastError: null });
    expect(await balanceDifferences(es.db, schema, NAME, 1000)).toEqual([]);
  }, 60_000);
});
