import { Client } from 'pg';
import { setTimeout as sleep } from 'node:timers/promises';
import { eventually } from '../../../../test/eventually';
import { AppendProbe } from '../../src/testing/append-probes';
import type { FaultyInstance } from './instance';
import type { Imports } from './imports';
import { deposit, type AppendLedger, type Attempt } from './ledger';
import type { Rng } from './workload';

/** What a fault can reach: the two instances (A stays up, B may be killed), a side connection, the ledger for its signals. */
export interface FaultContext {
  a: FaultyInstance;
  b: FaultyInstance;
  schema: string;
  side: Client;
  probe: AppendProbe;
  ledger: AppendLedger;
  rng: Rng;
  /** The imports running back to back. */
  imports: Imports;
}

/**
 * One fault: injects itself, waits for a sign that it bit (or for real time a
 * server-side bound needs), and heals. Resolves with whether the sign came: a
 * fault that found nothing in flight is still a valid scenario, and the
 * report says so.
 */
export type Fault = (ctx: FaultContext) => Promise<boolean>;

/** Longest a fault waits for its sign before healing anyway (a fault that found nothing in flight is still a valid scenario). */
const SIGN_WITHIN_MS = 6_000;

/** True once an attempt ends from now on as `matches` says; false after SIGN_WITHIN_MS (then healing goes on regardless). */
function sign(ledger: AppendLedger, matches: (a: Attempt) => boolean, what: string): Promise<boolean> {
  const from = ledger.ended.length;
  return eventually(() => ledger.ended.slice(from).some(matches), SIGN_WITHIN_MS, what, { everyMs: 20 }).then(
    () => true,
    () => false,
  );
}
const failedWith = (text: string) => (a: Attempt) => (a.error ?? '').includes(text);
const acked = (a: Attempt) => a.outcome === 'acked';

/**
 * Backends of the instances' pools, bulk sessions, lock and LISTEN connections
 * (found by their proxies' ports, so the observers' links are never hit) that
 * are running a statement.
 */
async function busyBackends(ctx: FaultContext): Promise<number[]> {
  const ports = [...ctx.a.backendPorts(), ...ctx.b.backendPorts()];
  const { rows } = await ctx.side.query<{ pid: number }>(
    `SELECT pid FROM pg_stat_activity WHERE state = 'active' AND client_port = ANY($1::int[]) AND query LIKE $2`,
    [ports, `%${ctx.schema}%`],
  );
  return rows.map((r) => r.pid);
}

/** Sends `signal` to `times` statements in flight, one at a time, each as soon as one is running. */
async function interrupt(ctx: FaultContext, signal: 'pg_cancel_backend' | 'pg_terminate_backend', times: number): Promise<boolean> {
  let sent = 0;
  for (let i = 0; i < times; i++) {
    const busy = async () => {
      const pids = await busyBackends(ctx);
      return pids.length ? pids : undefined;
    };
    const pids = await eventually(busy, SIGN_WITHIN_MS, 'a statement in flight', { everyMs: 5 }).catch((): number[] => []);
    if (!pids.length) continue;
    const [{ hit }] = (await ctx.side.query<{ hit: boolean }>(`SELECT ${signal}($1) AS hit`, [ctx.rng.pick(pids)])).rows;
    if (hit) sent++;
  }
  return sent > 0;
}

/** The faults scenarios draw from, by name (the report names them). */
export const FAULTS: Record<string, Fault> = {
  /** A's links go silent: statements in flight reach the client-side bound (unknown outcome); B takes the projection over. */
  'freeze-a': async ({ a, ledger }) => {
    a.freeze();
    const bit = await sign(ledger, failedWith('no-answer'), 'an append on the frozen link to give up');
    a.thaw();
    return bit;
  },
  /** A's links are cut and new connections refused, then it may connect again (the database went away for it). */
  'cut-a': async ({ a, ledger }) => {
    await a.cut();
    const bit = await sign(ledger, (x) => x.outcome === 'unknown', 'an append to fail on the cut link');
    await a.reconnect();
    return bit;
  },
  /** B crashes mid-flight (links cut, then its resources released) and restarts once A has acked an append without it. */
  'kill-b': async ({ b, ledger }) => {
    await b.kill();
    const bit = await sign(ledger, acked, 'an append acked while B is down');
    await b.restart();
    return bit;
  },
  /**
   * The instance running the projection freezes until the other has taken the
   * lock over (its lock session ended by the server), then thaws: the old
   * holder's batch in flight must not commit beside the new holder's.
   */
  'freeze-holder': async ({ a, b }) => {
    const runs = async (i: FaultyInstance) => (await i.handle?.projections.status())?.[0].activeHere ?? false;
    const holder = await eventually(async () => ((await runs(a)) ? a : (await runs(b)) ? b : undefined), SIGN_WITHIN_MS, 'a holder').catch(
      () => undefined,
    );
    if (!holder) return false;
    const standby = holder === a ? b : a;
    holder.freeze();
    // The standby takes over within the lock timeout (2 s) plus two polls; the status query runs on the standby's own link.
    const bit = await eventually(() => runs(standby), 3 * SIGN_WITHIN_MS, 'the standby to take the projection over').then(
      () => true,
      () => false,
    );
    holder.thaw();
    return bit;
  },
  /**
   * Live appends (through A) to streams the import has started writing: each
   * such stream moves on, and the import must leave its remaining lines out
   * and report them, never refuse the file; an append colliding with a chunk
   * being written is refused (a concurrency conflict), never half-applied.
   */
  'import-collide': async ({ a, side, imports, ledger }) => {
    let hits = 0;
    for (let i = 0; i < 4; i++) {
      const started = async () => {
        const { rows } = await side.query<{ stream_id: string }>(
          `SELECT stream_id FROM (SELECT DISTINCT stream_id FROM "${a.schema}".events WHERE stream_id LIKE $1) s ORDER BY random() LIMIT 1`,
          [`${imports.currentPrefix ?? 'none'}-%`],
        );
        return rows[0]?.stream_id;
      };
      const streamId = await eventually(started, SIGN_WITHIN_MS, 'a stream the import has written').catch(() => undefined);
      if (!streamId || !a.handle) continue;
      if ((await ledger.single(a.handle.store, { streamId, events: [deposit(1)] })).outcome === 'acked') hits++;
    }
    return hits > 0;
  },
  /** pg_cancel_backend on statements in flight: appends, batches, import statements, projection batches. */
  cancel: (ctx) => interrupt(ctx, 'pg_cancel_backend', 6),
  /** pg_terminate_backend on statements in flight: their connections drop. */
  terminate: (ctx) => interrupt(ctx, 'pg_terminate_backend', 3),
  /** Position draws blocked past statement_timeout: appends in the critical section time out (EVENT_STORE.TIMEOUT), the import waits. */
  'statement-timeout': async ({ probe, ledger }) => {
    const block = await probe.blockPositionDraws();
    try {
      return await sign(ledger, failedWith('EVENT_STORE.TIMEOUT/statement'), 'an append to time out');
    } finally {
      await block.release();
    }
  },
  /** One of A's connections freezes alone as it sends an append (the statement never reaches the server); the others go on. */
  'trap-append': async ({ a, schema, ledger }) => {
    a.freezeLinkOn(`"${schema}".append_`);
    const bit = await sign(ledger, failedWith('no-answer'), 'the trapped append to give up');
    a.thaw();
    return bit;
  },
  /** The link that next carries A's notify channel freezes alone (a post-commit NOTIFY, or the LISTEN connection hearing one). */
  'trap-notify': async ({ a, schema }) => {
    a.freezeLinkOn(`ch_${schema}`);
    // Real time must pass: the NOTIFY's own bound (2 s) is what is under test, and nothing signals it to the caller.
    await sleep(2_500);
    a.thaw();
    return true;
  },
};

/** Names of every fault, in a fixed order (seeded picks index it). */
export const FAULT_NAMES = Object.keys(FAULTS);
