import { IsString } from 'class-validator';
import { createEventStore, EventStoreHandle } from '../create-event-store';
import { defineEvent } from '../registry/event-definition';
import { balanceDifferences, balancesProjection, depositedEvent, readModelSnapshot } from '../testing/balances-projection';
import { eventually } from '../../../../test/eventually';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '../testing/test-database';
import type { Projection, ProjectionCommit } from './projection';
import type { ProjectionStatus } from './projection-state';
import { ProjectionStateError } from './projections.service';

class Noted {
  @IsString() text: string;
}
const notedEvent = defineEvent({ type: 'Noted', version: 1, eventClass: Noted });

/** A projection of another event type: it must keep running while a Deposited projection is stopped. */
const auditProjection: Projection = {
  name: 'poison_audit',
  version: 1,
  handles: ['Noted'],
  tables: ['poison_notes'],
  async createTables(sql, t) {
    await sql.query(`CREATE TABLE ${t.poison_notes} (position bigint PRIMARY KEY, text text NOT NULL)`);
  },
  async apply(events, sql, t) {
    await sql.query(`INSERT INTO ${t.poison_notes} SELECT * FROM unnest($1::bigint[], $2::text[])`, [
      events.map((e) => e.position),
      events.map((e) => (e.data as Noted).text),
    ]);
    return [];
  },
};

async function open(schema: string, projections: Projection[]): Promise<EventStoreHandle> {
  return createEventStore({
    url: TEST_DATABASE_URL,
    schema,
    events: [depositedEvent, notedEvent],
    projections,
    projectionBatchSize: 50,
    projectionPollMs: 25,
  });
}

async function deposit(es: EventStoreHandle, account: string, amount: number, schemaVersion = 1): Promise<number> {
  const { position } = await es.store.appendToStream(account, [{ type: 'Deposited', schemaVersion, data: { amount } }]);
  return position;
}

async function note(es: EventStoreHandle, text: string): Promise<number> {
  return (await es.store.appendToStream('notes', [{ type: 'Noted', schemaVersion: 1, data: { text } }])).position;
}

async function statusOf(es: EventStoreHandle, name: string): Promise<ProjectionStatus> {
  return (await es.projections.status()).find((s) => s.name === name)!;
}

function stoppedOn(es: EventStoreHandle, name: string, after?: string): Promise<ProjectionStatus> {
  return eventually(
    async () => {
      const s = await statusOf(es, name);
      return s.state === 'stopped-on-error' && (!after || s.lastError!.at !== after) ? s : undefined;
    },
    10_000,
    `${name} to stop on an error`,
  );
}

/** The stored projection row, to prove a rejected command changed nothing (not even updated_at). */
async function rowOf(es: EventStoreHandle, name: string): Promise<unknown> {
  const [row] = await es.db.query(`SELECT * FROM "${es.schema}".projections WHERE name = $1`, [name]);
  return row;
}

describe('an event that cannot be upcast stops its projection at that position', () => {
  const schema = uniqueSchema('es_proj_poison_up');
  const NAME = 'poison_bal';
  let es: EventStoreHandle;
  let poison: number;
  let head: number;
  let poisonEventId: string;

  beforeAll(async () => {
    es = await open(schema, [balancesProjection({ name: NAME }), auditProjection]);
    for (let i = 1; i <= 30; i++) await deposit(es, `acct-${i % 3}`, i);
    poison = await deposit(es, 'acct-9', 1000, 99);
    for (let i = 1; i <= 10; i++) await deposit(es, `acct-${i % 3}`, 100 + i);
    for (let i = 1; i <= 5; i++) head = await note(es, `note ${i}`);
    [{ event_id: poisonEventId }] = await es.db.query(`SELECT event_id FROM "${schema}".events WHERE position = $1`, [poison]);
    await es.projections.start();
  }, 30_000);
  afterAll(async () => {
    await es?.close();
    await dropSchema(schema);
  });

  it("stops with the event's location and reason, after applying the events before it in the same batch", async () => {
    const s = await stoppedOn(es, NAME);
    expect(poison).toBe(31);
    expect(s).toMatchObject({ state: 'stopped-on-error', checkpoint: poison - 1, rebuild: null, skipped: [] });
    expect(s.lastError).toEqual({
      position: poison,
      streamId: 'acct-9',
      streamVersion: 1,
      eventId: poisonEventId,
      type: 'Deposited',
      schemaVersion: 99,
      code: 'EVENT_STORE.MISSING_UPCASTER',
      reason: expect.stringContaining('v99'),
      at: expect.any(String),
      phase: 'live',
    });
    const model = await readModelSnapshot(es.db, schema, NAME);
    expect(model).toMatchObject({ checkpoint: 30, applied: 30, distinctApplied: 30, events: 30, total: (30 * 31) / 2 });
    // The 30 good events and the poison were one batch of 50: the good part was committed in that same batch.
    const batches = await es.db.query(`SELECT first_position, last_position FROM "${schema}"."${NAME}_batches"`);
    expect(batches).toEqual([{ first_position: '1', last_position: '30' }]);
  });

  it('keeps the other projections running', async () => {
    expect(await es.projections.waitFor('poison_audit', head, 10_000)).toBe(true);
    const later = await note(es, 'written while poison_bal is stopped');
    expect(await es.projections.waitFor('poison_audit', later, 10_000)).toBe(true);
    const [{ n }] = await es.db.query<any>(`SELECT count(*)::int AS n FROM "${schema}".poison_notes`);
    expect(n).toBe(6);
    expect((await statusOf(es, 'poison_audit')).state).toBe('running');
    expect((await statusOf(es, NAME)).checkpoint).toBe(poison - 1);
  });

  it('rejects a skip of any other position and changes nothing', async () => {
    const before = await rowOf(es, NAME);
    for (const wrong of [poison - 1, poison + 1, 0]) {
      await expect(es.projections.skip(NAME, wrong)).rejects.toBeInstanceOf(ProjectionStateError);
    }
    await expect(es.projections.skip(NAME, poison + 1)).rejects.toMatchObject({ code: 'PROJECTION.STATE_CONFLICT' });
    expect(await rowOf(es, NAME)).toEqual(before);
  });

  it('retry tries the same event again and, still unreadable, stops on it again', async () => {
    const { lastError } = await statusOf(es, NAME);
    await es.projections.retry(NAME);
    const s = await stoppedOn(es, NAME, lastError!.at);
    expect(s.lastError).toMatchObject({ position: poison, code: 'EVENT_STORE.MISSING_UPCASTER' });
    expect(s.checkpoint).toBe(poison - 1);
    expect((await readModelSnapshot(es.db, schema, NAME)).applied).toBe(30);
  });

  it('skip of exactly that position resumes past it, records it, and catches up', async () => {
    await es.projections.skip(NAME, poison);
    const more = await deposit(es, 'acct-1', 7);
    expect(await es.projections.waitFor(NAME, more, 10_000)).toBe(true);
    const s = await statusOf(es, NAME);
    expect(s).toMatchObject({ state: 'running', lastError: null });
    expect(s.skipped).toEqual([
      {
        position: poison,
        at: expect.any(String),
        error: expect.objectContaining({ position: poison, code: 'EVENT_STORE.MISSING_UPCASTER' }),
        phase: 'live',
      },
    ]);
    const model = await readModelSnapshot(es.db, schema, NAME);
    const [{ ok }] = await es.db.query<any>(`SELECT NOT EXISTS (SELECT 1 FROM "${schema}"."${NAME}_applied" WHERE position = $1) AS ok`, [
      poison,
    ]);
    expect(ok).toBe(true);
    expect(model).toMatchObject({ applied: 41, distinctApplied: 41, events: 41, total: (30 * 31) / 2 + 1055 + 7 });
    await expect(es.projections.skip(NAME, poison)).rejects.toBeInstanceOf(ProjectionStateError);
  });

  it('a rebuild honours the earlier skip: it passes the event without stopping and switches in the same model', async () => {
    const before = await es.db.query(`SELECT * FROM "${schema}"."${NAME}" ORDER BY account`);
    await es.projections.rebuild(NAME);
    const s = await eventually(
      async () => {
        const st = await statusOf(es, NAME);
        expect(st.state).not.toBe('stopped-on-error');
        return st.rebuild === null ? st : undefined;
      },
      10_000,
      'the rebuild to switch',
      { everyMs: 5 },
    );
    expect(s).toMatchObject({ state: 'running', lastError: null, lag: 0 });
    expect(s.skipped).toHaveLength(1);
    expect(await es.db.query(`SELECT * FROM "${schema}"."${NAME}" ORDER BY account`)).toEqual(before);
    const model = await readModelSnapshot(es.db, schema, NAME);
    expect(model).toMatchObject({ applied: 41, distinctApplied: 41, events: 41 });
  });
});

describe('an event whose apply throws stops its projection; retry after a fix applies that same event', () => {
  const schema = uniqueSchema('es_proj_poison_apply');
  const FRAGILE = 'fragile_bal';
  const STEADY = 'steady_bal';
  const fix = { deployed: false };
  const commits: ProjectionCommit[] = [];
  let es: EventStoreHandle;
  let poison: number;
  let head: number;

  beforeAll(async () => {
    es = await open(schema, [
      balancesProjection({ name: FRAGILE, failOn: (e) => e.data.amount === 13 && !fix.deployed }),
      balancesProjection({ name: STEADY }),
    ]);
    es.projections.onCommit((c) => c.projection === FRAGILE && commits.push(c));
    for (let i = 1; i <= 20; i++) await deposit(es, `acct-${i % 4}`, i === 13 ? 12 : i);
    poison = await deposit(es, 'acct-2', 13);
    for (let i = 1; i <= 9; i++) head = await deposit(es, `acct-${i % 4}`, 20 + i);
    await es.projections.start();
  }, 30_000);
  afterAll(async () => {
    await es?.close();
    await dropSchema(schema);
  });

  it('stops at the failing event with APPLY_FAILED, every event before it applied; the other projection goes on', async () => {
    const s = await stoppedOn(es, FRAGILE);
    expect(s.checkpoint).toBe(poison - 1);
    expect(s.lastError).toEqual({
      position: poison,
      streamId: 'acct-2',
      streamVersion: expect.any(Number),
      eventId: expect.any(String),
      type: 'Deposited',
      schemaVersion: 1,
      code: 'PROJECTION.APPLY_FAILED',
      reason: `refusing deposit at position ${poison}`,
      at: expect.any(String),
      phase: 'live',
    });
    const model = await readModelSnapshot(es.db, schema, FRAGILE);
    expect(model).toMatchObject({ checkpoint: poison - 1, applied: poison - 1, distinctApplied: poison - 1, events: poison - 1 });
    expect(model.total).toBe(model.expectedTotal);
    expect(await es.projections.waitFor(STEADY, head, 10_000)).toBe(true);
    expect(await balanceDifferences(es.db, schema, STEADY)).toEqual([]);
    expect((await statusOf(es, STEADY)).state).toBe('running');
  });

  // BUG (projection-runner.ts applyBatch, apply-failure path): onCommit reports `to` (the failing
  // event's position) although the checkpoint saved is position - 1. Flip to `it` once fixed.
  it('never announces a commit beyond the checkpoint it saved', () => {
    expect(Math.max(...commits.map((c) => c.position))).toBe(poison - 1);
  });

  it('retry before the fix fails on the same event again; skip of a wrong position is rejected', async () => {
    const { lastError } = await statusOf(es, FRAGILE);
    await es.projections.retry(FRAGILE);
    const s = await stoppedOn(es, FRAGILE, lastError!.at);
    expect(s).toMatchObject({ checkpoint: poison - 1, lastError: { position: poison, code: 'PROJECTION.APPLY_FAILED' } });
    const before = await rowOf(es, FRAGILE);
    await expect(es.projections.skip(FRAGILE, poison + 1)).rejects.toBeInstanceOf(ProjectionStateError);
    expect(await rowOf(es, FRAGILE)).toEqual(before);
  });

  it('retry after the fix applies the same event and catches up, exactly once', async () => {
    fix.deployed = true;
    await es.projections.retry(FRAGILE);
    expect(await es.projections.waitFor(FRAGILE, head, 10_000)).toBe(true);
    const s = await statusOf(es, FRAGILE);
    expect(s).toMatchObject({ state: 'running', lastError: null, skipped: [], checkpoint: head });
    const model = await readModelSnapshot(es.db, schema, FRAGILE);
    expect(model).toMatchObject({ applied: head, distinctApplied: head, events: head, total: model.expectedTotal });
    const [{ n }] = await es.db.query<any>(`SELECT count(*)::int AS n FROM "${schema}"."${FRAGILE}_applied" WHERE position = $1`, [poison]);
    expect(n).toBe(1);
    expect(await balanceDifferences(es.db, schema, FRAGILE)).toEqual([]);
    await expect(es.projections.retry(FRAGILE)).rejects.toBeInstanceOf(ProjectionStateError);
  });
});
