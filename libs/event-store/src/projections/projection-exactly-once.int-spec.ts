import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createEventStore, EventStoreHandle } from '../create-event-store';
import {
  balanceDifferences,
  balancesProjection,
  depositedEvent,
  readModelSnapshot,
  ReadModelSnapshot,
  seedDeposits,
} from '../testing/balances-projection';
import { eventually } from '../../../../test/eventually';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '../testing/test-database';

const TOTAL = 100_000;
const STREAMS = 1_000;
const BATCH = 500;
const IN_PROCESS = 'once_inproc';
const CRASHING = 'once_child';
const CHILD_SCRIPT = join(__dirname, '..', 'testing', 'projection-child.ts');
const REPO_ROOT = join(__dirname, '..', '..', '..', '..');

/** The read model agrees with its checkpoint: exactly the handled events up to it, each once. */
function expectConsistent(s: ReadModelSnapshot): void {
  expect(s.distinctApplied).toBe(s.applied);
  expect(s.applied).toBe(s.expectedEvents);
  expect(s.events).toBe(s.expectedEvents);
  expect(s.total).toBe(s.expectedTotal);
  expect(s.maxApplied).toBeLessThanOrEqual(s.checkpoint);
}

/**
 * The exactly-once effect of projections: read-model writes and checkpoint
 * commit together, so a run that is killed any number of times (here: a
 * whole process, SIGKILLed mid-batch) and resumed, a clean run and a rebuild
 * all end at the same read model, equal to what the log says.
 */
describe('projection exactly-once over 100k events', () => {
  const schema = uniqueSchema('es_proj_once');
  let es: EventStoreHandle;
  let head: number;
  const children = new Set<ChildProcess>();
  const snapshot = (name: string) => readModelSnapshot(es.db, schema, name);
  const fingerprint = async (name: string) =>
    (
      await es.db.query(
        `SELECT md5(string_agg(account || ':' || total || ':' || events, ',' ORDER BY account)) AS f, count(*)::int AS n
         FROM "${schema}"."${name}"`,
      )
    )[0] as { f: string; n: number };

  beforeAll(async () => {
    es = await createEventStore({
      url: TEST_DATABASE_URL,
      schema,
      events: [depositedEvent],
      projections: [balancesProjection({ name: IN_PROCESS })],
      projectionBatchSize: BATCH,
      projectionPollMs: 50,
    });
    await seedDeposits(es.db, schema, TOTAL, STREAMS);
    head = await es.store.headPosition();
  }, 60_000);
  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await es?.close();
    await dropSchema(schema);
  });

  it('(a) an uninterrupted in-process run applies every event once, checkpoint and model agreeing all along', async () => {
    expect(head).toBe(TOTAL);
    await es.projections.start();
    // Samples the model every 150 ms while the run goes on (a check that throws: the tables are not there yet).
    const samples: ReadModelSnapshot[] = [];
    await eventually(
      async () => {
        const s = await snapshot(IN_PROCESS);
        samples.push(s);
        return s.checkpoint === head;
      },
      60_000,
      'the in-process run to finish',
      { everyMs: 150 },
    );
    samples.forEach(expectConsistent);
    expect(samples.length).toBeGreaterThan(2);
    expect(await balanceDifferences(es.db, schema, IN_PROCESS)).toEqual([]);
    const [status] = await es.projections.status();
    expect(status).toMatchObject({ name: IN_PROCESS, state: 'running', lastError: null, checkpoint: head, lag: 0, activeHere: true });
  }, 90_000);

  it('(b) a child process SIGKILLed mid-batch four times, then resumed, ends at the same model', async () => {
    const spawnChild = () => {
      const child = spawn(process.execPath, ['-r', '@swc-node/register', CHILD_SCRIPT], {
        cwd: REPO_ROOT,
        env: {
          ...process.env,
          PROJECTION_SCHEMA: schema,
          PROJECTION_NAME: CRASHING,
          TEST_DATABASE_URL,
          PROJECTION_BATCH_SIZE: String(BATCH),
        },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      children.add(child);
      child.once('exit', () => children.delete(child));
      return { child, exited, stderr: () => stderr };
    };
    const checkpoint = async () => {
      const rows = await es.db.query<any>(`SELECT position FROM "${schema}".projections WHERE name = $1`, [CRASHING]);
      return rows.length ? Number(rows[0].position) : 0;
    };
    /** The backend that holds the projection's lock and applied its latest batch. */
    const holderPid = async (): Promise<number | undefined> => {
      const rows = await es.db.query<{ pid: number }>(
        `SELECT l.pid FROM pg_locks l
          WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 AND l.objid = hashtext($1)::oid
            AND l.pid IN (SELECT pid FROM "${schema}"."${CRASHING}_batches")`,
        [CRASHING],
      );
      return rows[0]?.pid;
    };

    const kills: Array<{ checkpoint: number; inTransaction: boolean }> = [];
    for (let k = 0; k < 4; k++) {
      const before = await checkpoint();
      const run = spawnChild();
      await eventually(async () => (await checkpoint()) > before, 30_000, `child ${k} to commit a batch (${run.stderr()})`);
      await sleep(50 + Math.random() * 400); // a random point in the child's run: the kills land at different places
      const pid = await eventually(holderPid, 5_000, 'the lock holder');
      // Land inside a batch: wait (briefly) until the holder has written in an open transaction, then kill at once.
      const inTransaction = await eventually(
        async () => {
          const [a] = await es.db.query<any>('SELECT backend_xid IS NOT NULL AS writing FROM pg_stat_activity WHERE pid = $1', [pid]);
          return a?.writing === true;
        },
        2_000,
        'a batch in flight',
        { everyMs: 1 },
      ).catch(() => false);
      run.child.kill('SIGKILL');
      await run.exited;
      kills.push({ checkpoint: await checkpoint(), inTransaction });
      // PostgreSQL notices the dead client, rolls its batch back and frees the lock.
      await eventually(async () => (await holderPid()) === undefined, 10_000, 'the killed child to lose its lock');
      expectConsistent(await snapshot(CRASHING));
    }
    if (process.env.DEBUG_KILLS) process.stderr.write(`KILLS ${JSON.stringify(kills)}\n`);
    expect(kills.every((k) => k.checkpoint < head)).toBe(true);
    expect(kills.filter((k) => k.inTransaction).length).toBeGreaterThanOrEqual(3);
    expect(new Set(kills.map((k) => k.checkpoint)).size).toBe(kills.length);

    const last = spawnChild();
    await eventually(async () => (await checkpoint()) === head, 60_000, `the resumed child to catch up (${last.stderr()})`);
    last.child.kill('SIGTERM');
    await last.exited;

    const final = await snapshot(CRASHING);
    expectConsistent(final);
    expect(final.checkpoint).toBe(head);
    expect(await balanceDifferences(es.db, schema, CRASHING)).toEqual([]);
    expect(await fingerprint(CRASHING)).toEqual(await fingerprint(IN_PROCESS));
    const [row] = await es.db.query(`SELECT state, error FROM "${schema}".projections WHERE name = $1`, [CRASHING]);
    expect(row).toEqual({ state: 'running', error: null });
    // Several processes really shared the work (the batch log survives only for committed batches).
    const [{ runners }] = await es.db.query<any>(`SELECT count(DISTINCT runner)::int AS runners FROM "${schema}"."${CRASHING}_batches"`);
    expect(runners).toBeGreaterThanOrEqual(4);
  }, 120_000);

  it('(c) a rebuild from position 0 reaches the same model and switches in', async () => {
    const before = await fingerprint(IN_PROCESS);
    await es.projections.rebuild(IN_PROCESS);
    const seen = new Set<string>();
    const status = await eventually(
      async () => {
        const [s] = await es.projections.status();
        seen.add(s.state);
        // The live model stays complete while its shadow fills.
        expect(await fingerprint(IN_PROCESS)).toEqual(before);
        return s.rebuild === null && s.checkpoint === head && s;
      },
      60_000,
      'the rebuild to switch',
      { everyMs: 100 },
    );
    expect(seen.has('rebuilding')).toBe(true);
    expect(status).toMatchObject({ state: 'running', version: 1, lastError: null, lag: 0 });
    const s = await snapshot(IN_PROCESS);
    expectConsistent(s);
    expect(s.applied).toBe(TOTAL);
    expect(await balanceDifferences(es.db, schema, IN_PROCESS)).toEqual([]);
    expect(await fingerprint(IN_PROCESS)).toEqual(before);
    expect((await fingerprint(IN_PROCESS)).n).toBe(STREAMS);
  }, 90_000);
});
