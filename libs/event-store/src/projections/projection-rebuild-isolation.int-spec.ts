import { setTimeout as sleep } from 'node:timers/promises';
import { createEventStore, EventStoreHandle } from '../create-event-store';
import {
  balanceDifferences,
  balancesProjection,
  Deposited,
  depositedEvent,
  readModelSnapshot,
  seedDeposits,
} from '../testing/balances-projection';
import { eventually } from '../../../../test/eventually';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '../testing/test-database';
import type { RecordedEvent } from '../types';
import type { ProjectionStatus } from './projection-state';
import { ProjectionStateError, UnknownProjectionError } from './projections.service';
import { ProjectionWorker } from './runner/projection-worker';

const NAME = 'iso_bal';
const SEEDED = 3_000;
const POISON_AMOUNT = 13;

/** Deposits of a recognisable amount the seed never writes (it writes 1..97 by position), appended one by one. */
async function deposit(es: EventStoreHandle, amount: number): Promise<number> {
  return (await es.store.appendToStream(`acct-${amount % 5}`, [{ type: 'Deposited', schemaVersion: 1, data: { amount } }])).position;
}

const status = async (es: EventStoreHandle): Promise<ProjectionStatus> => (await es.projections.status())[0];

/**
 * Resolves once a worker of projection `version` has finished a decision begun after this call: a step
 * (it held the lock) or standing by (it did not). Each is a function of the stored row alone, and steps run
 * one after another, so after it no decision taken on an older row is still in flight.
 */
async function nextDecision(version: number): Promise<void> {
  const steps = jest.spyOn(ProjectionWorker.prototype, 'step');
  const standBys = jest.spyOn(ProjectionWorker.prototype, 'standingBy');
  const first = (spy: typeof steps | typeof standBys) =>
    spy.mock.results.find((_, i) => (spy.mock.contexts[i] as ProjectionWorker).projection.version === version)?.value;
  try {
    await eventually(
      async () => {
        const decision = first(steps) ?? first(standBys);
        return decision ? (await decision, true) : false;
      },
      10_000,
      `a v${version} worker to decide on the row`,
    );
  } finally {
    steps.mockRestore();
    standBys.mockRestore();
  }
}
const shadowTables = async (es: EventStoreHandle) =>
  (await es.db.query<any>(`SELECT tablename FROM pg_tables WHERE schemaname = $1 AND tablename LIKE '%\\_\\_rebuild'`, [es.schema])).map(
    (r: { tablename: string }) => r.tablename,
  );

/**
 * A rebuild that meets a poison event stops only itself: the live model keeps
 * following the log (and serving reads) with its own batch size and stop
 * state; the stop names its phase; retry and skip can target it; an abort
 * drops its shadow tables.
 */
describe('a same-version rebuild stopped by a poison event under write traffic', () => {
  const schema = uniqueSchema('es_proj_iso');
  const bug = { deployed: false, failures: 0 };
  let es: EventStoreHandle;
  let poison: number;
  const failOn = (e: RecordedEvent<Deposited>) => {
    const fails = bug.deployed && e.data.amount === 1000 + POISON_AMOUNT;
    if (fails) bug.failures++;
    return fails;
  };

  beforeAll(async () => {
    es = await createEventStore({
      url: TEST_DATABASE_URL,
      schema,
      events: [depositedEvent],
      poolSize: 4,
      projections: [balancesProjection({ name: NAME, failOn })],
      projectionBatchSize: 50,
      projectionPollMs: 20,
    });
    await seedDeposits(es.db, schema, SEEDED, 40);
    poison = await deposit(es, 1000 + POISON_AMOUNT);
    await es.projections.start();
    expect(await es.projections.waitFor(NAME, poison, 30_000)).toBe(true);
  }, 60_000);
  afterAll(async () => {
    await es?.close();
    await dropSchema(schema);
  });

  it('stops the rebuild at the failing event (two failing applies: the batch, then the event alone) while live keeps applying', async () => {
    bug.deployed = true; // a bug shipped without a version bump: the live model already holds the event
    let writing = true;
    let written = 0;
    const writer = (async () => {
      for (; writing; written++) {
        await deposit(es, 1 + (written % 7));
        await sleep(5); // paces the writer: steady write traffic during the rebuild, not a wait for anything
      }
    })();
    await es.projections.rebuild(NAME);
    const stopped = await eventually(
      async () => {
        const s = await status(es);
        return s.state === 'rebuild-stopped-on-error' ? s : undefined;
      },
      30_000,
      'the rebuild to stop',
    );
    // Live batches commit all along; with a shared batch size they would end the search and re-apply the batch forever.
    const liveBefore = stopped.checkpoint;
    await eventually(async () => (await status(es)).checkpoint > liveBefore + 5, 10_000, 'live to keep following');
    writing = false;
    await writer;

    expect(bug.failures).toBe(2);
    expect(stopped).toMatchObject({ state: 'rebuild-stopped-on-error', lastError: null, version: 1 });
    expect(stopped.rebuild).toMatchObject({
      version: 1,
      state: 'stopped-on-error',
      position: poison - 1,
      error: {
        phase: 'rebuild',
        position: poison,
        code: 'PROJECTION.APPLY_FAILED',
        type: 'Deposited',
        reason: `refusing deposit at position ${poison}`,
      },
    });
    const head = await es.store.headPosition();
    expect(await es.projections.waitFor(NAME, head, 10_000)).toBe(true);
    const model = await readModelSnapshot(es.db, schema, NAME);
    expect(model).toMatchObject({ checkpoint: head, applied: head, distinctApplied: head, total: model.expectedTotal });
    expect(written).toBeGreaterThan(5);
  }, 60_000);

  it('retry and skip name the phase: the live phase is not stopped, the rebuild phase is', async () => {
    await expect(es.projections.retry(NAME, 'live')).rejects.toBeInstanceOf(ProjectionStateError);
    await expect(es.projections.skip(NAME, poison, 'live')).rejects.toBeInstanceOf(ProjectionStateError);
    const { rebuild } = await status(es);
    expect(await es.projections.retry(NAME)).toEqual(['rebuild']);
    const again = await eventually(
      async () => {
        const s = await status(es);
        return s.rebuild?.error && s.rebuild.error.at !== rebuild!.error!.at ? s : undefined;
      },
      10_000,
      'the retried rebuild to stop again',
    );
    expect(again.rebuild).toMatchObject({ state: 'stopped-on-error', position: poison - 1, error: { position: poison, phase: 'rebuild' } });
    expect(again.state).toBe('rebuild-stopped-on-error');
  });

  it('after the fix, retry of the rebuild phase applies the event once and switches in a model equal to the log', async () => {
    bug.deployed = false;
    expect(await es.projections.retry(NAME, 'rebuild')).toEqual(['rebuild']);
    const switched = await eventually(
      async () => {
        const s = await status(es);
        return s.rebuild === null ? s : undefined;
      },
      20_000,
      'the rebuild to switch',
    );
    expect(switched).toMatchObject({ state: 'running', lastError: null, skipped: [] });
    const model = await readModelSnapshot(es.db, schema, NAME);
    expect(model).toMatchObject({ applied: model.checkpoint, distinctApplied: model.checkpoint, total: model.expectedTotal });
    expect(await balanceDifferences(es.db, schema, NAME)).toEqual([]);
    expect(await shadowTables(es)).toEqual([]);
  });

  it('abort ends a rebuild (running or stopped), drops its shadow tables, leaves the live model alone; 409 without a rebuild', async () => {
    bug.deployed = true;
    await es.projections.rebuild(NAME);
    await eventually(async () => (await status(es)).state === 'rebuild-stopped-on-error', 20_000, 'the rebuild to stop');
    expect((await shadowTables(es)).sort()).toEqual([`${NAME}__rebuild`, `${NAME}_applied__rebuild`, `${NAME}_batches__rebuild`]);
    const before = await readModelSnapshot(es.db, schema, NAME);

    const aborted = await es.projections.abortRebuild(NAME);
    expect(aborted).toEqual({ version: 1, position: poison - 1, at: expect.any(String) });
    expect(await shadowTables(es)).toEqual([]);
    const after = await status(es);
    expect(after).toMatchObject({ state: 'running', rebuild: null, abortedRebuild: aborted, checkpoint: before.checkpoint });
    expect(await readModelSnapshot(es.db, schema, NAME)).toEqual(before);
    const more = await deposit(es, 3);
    expect(await es.projections.waitFor(NAME, more, 10_000)).toBe(true);

    await expect(es.projections.abortRebuild(NAME)).rejects.toBeInstanceOf(ProjectionStateError);
    await expect(es.projections.abortRebuild('nope')).rejects.toBeInstanceOf(UnknownProjectionError);
  });

  it('abort of a running rebuild: it ends at once, wherever it was, and nothing of it is left', async () => {
    bug.deployed = false;
    await es.projections.rebuild(NAME);
    const aborted = await es.projections.abortRebuild(NAME);
    expect(aborted.position).toBeLessThan(await es.store.headPosition());
    await nextDecision(1); // a step in flight during the abort has ended once a later one has
    expect(await shadowTables(es)).toEqual([]);
    expect(await status(es)).toMatchObject({ state: 'running', rebuild: null, abortedRebuild: aborted });
    expect(await balanceDifferences(es.db, schema, NAME)).toEqual([]);
  });
});

/**
 * Rolling deploys: a newer version's rebuild that stops leaves the live model
 * to the instances of its version; an operator can abort it (and that version
 * does not start it again by itself); a deploy of a newer version replaces a
 * stopped rebuild and switches.
 */
describe('a stopped rebuild of a newer version', () => {
  const schema = uniqueSchema('es_proj_iso_ver');
  const open = (version: number, scale: number, failOn?: (e: RecordedEvent<Deposited>) => boolean) =>
    createEventStore({
      url: TEST_DATABASE_URL,
      schema,
      events: [depositedEvent],
      poolSize: 3,
      projections: [balancesProjection({ name: NAME, version, scale, failOn })],
      projectionBatchSize: 100,
      projectionPollMs: 20,
    });
  const opened: EventStoreHandle[] = [];
  let v1: EventStoreHandle;
  let poison: number;

  beforeAll(async () => {
    v1 = await open(1, 1);
    opened.push(v1);
    await seedDeposits(v1.db, schema, SEEDED, 40);
    poison = await deposit(v1, 1000 + POISON_AMOUNT);
    await v1.projections.start();
    expect(await v1.projections.waitFor(NAME, poison, 30_000)).toBe(true);
  }, 60_000);
  afterAll(async () => {
    await Promise.all(opened.map((h) => h.close()));
    await dropSchema(schema);
  });

  it('stops only the v2 rebuild; v1 instances keep the live model following the log; abort sticks for v2; v3 replaces it', async () => {
    const v2 = await open(2, 10, (e) => e.data.amount === 1000 + POISON_AMOUNT);
    opened.push(v2);
    await v2.projections.start();
    const stopped = await eventually(
      async () => {
        const s = await status(v1);
        return s.state === 'rebuild-stopped-on-error' ? s : undefined;
      },
      30_000,
      'the v2 rebuild to stop',
    );
    expect(stopped).toMatchObject({ version: 1, codeVersion: 1, lastError: null });
    expect(stopped.rebuild).toMatchObject({ version: 2, state: 'stopped-on-error', error: { phase: 'rebuild', position: poison } });

    // The v2 instance cannot apply v1 rules: it stands by, and the v1 instance serves the live model.
    const written = await deposit(v1, 5);
    expect(await v1.projections.waitFor(NAME, written, 10_000)).toBe(true);
    expect(await balanceDifferences(v1.db, schema, NAME, 1)).toEqual([]);

    const aborted = await v2.projections.abortRebuild(NAME);
    expect(aborted.version).toBe(2);
    await nextDecision(2); // what v2 does with the aborted row, it does at its first decision on it
    expect(await status(v2)).toMatchObject({ version: 1, rebuild: null, abortedRebuild: { version: 2 } });
    expect(await shadowTables(v2)).toEqual([]);

    const v3 = await open(3, 100);
    opened.push(v3);
    await v3.projections.start();
    const switched = await eventually(
      async () => {
        const s = await status(v3);
        return s.version === 3 && s.rebuild === null ? s : undefined;
      },
      30_000,
      'v3 to rebuild and switch',
    );
    expect(switched).toMatchObject({ state: 'running', codeVersion: 3, lastError: null });
    const after = await deposit(v3, 7);
    expect(await v3.projections.waitFor(NAME, after, 10_000)).toBe(true);
    expect(await balanceDifferences(v3.db, schema, NAME, 100)).toEqual([]);
  }, 90_000);

  it('a newer deploy replaces a rebuild that is stopped (not aborted)', async () => {
    const v4 = await open(4, 1000, (e) => e.data.amount === 1000 + POISON_AMOUNT);
    opened.push(v4);
    await v4.projections.start();
    await eventually(async () => (await status(v4)).rebuild?.state === 'stopped-on-error', 30_000, 'the v4 rebuild to stop');
    const v5 = await open(5, 10_000);
    opened.push(v5);
    await v5.projections.start();
    await eventually(async () => (await status(v5)).version === 5, 30_000, 'v5 to replace the stopped v4 rebuild and switch');
    expect(await status(v5)).toMatchObject({ state: 'running', rebuild: null, lastError: null });
    expect(await balanceDifferences(v5.db, schema, NAME, 10_000)).toEqual([]);
  }, 90_000);
});
