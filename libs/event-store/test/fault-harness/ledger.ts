import { randomUUID } from 'node:crypto';
import type { EventStore } from '../../src';
import type { EventToWrite } from '../../src/postgres/append';
import type { StreamAppend } from '../../src/postgres/append-batch';
import type { Queryable } from '../../src';

/**
 * What the caller learnt about one write: `acked` (the store answered a
 * result), `refused` (an error the store documents as "nothing written": a
 * concurrency or idempotency conflict, a batch too large, a server-side
 * statement or idle-in-transaction timeout), or `unknown` (anything else: no
 * answer within the client-side bound, a cancel, a dropped connection; the
 * write may or may not have committed).
 */
export type Outcome = 'acked' | 'refused' | 'unknown';

/** One append or batch as the harness tried it: its streams and event ids, so it can be retried with the same ids. */
export interface Attempt {
  kind: 'single' | 'batch';
  appends: StreamAppend[];
  outcome: Outcome;
  /** The error code (or message) of a refusal or an unknown outcome, for the report. */
  error?: string;
  /** Set once an unknown attempt was retried with the same event ids and acked: whether the retry found it written already. */
  retried?: { alreadyStored: boolean };
}

const REFUSALS = new Set(['EVENT_STORE.CONCURRENCY_CONFLICT', 'EVENT_STORE.IDEMPOTENCY_CONFLICT', 'EVENT_STORE.BATCH_TOO_LARGE']);

/** A deposit to write, with its id fixed up front (a retry must carry the same one). */
export const deposit = (amount: number): EventToWrite => ({ eventId: randomUUID(), type: 'Deposited', schemaVersion: 1, data: { amount } });

/** Every write the workload tried, with what the caller learnt, and the checks of the log against it. */
export class AppendLedger {
  readonly attempts: Attempt[] = [];
  /** Attempts in the order they ended: a fault's sign is an attempt that ends after the fault began, whenever it started. */
  readonly ended: Attempt[] = [];

  /** Runs one single-stream append and records its outcome; never throws. */
  single(store: EventStore, append: StreamAppend): Promise<Attempt> {
    return this.record({ kind: 'single', appends: [append], outcome: 'unknown' }, () =>
      store.appendToStream(append.streamId, append.events, { expectedVersion: append.expectedVersion }),
    );
  }

  /** Runs one `appendToStreams` batch and records its outcome; never throws. */
  batch(store: EventStore, appends: StreamAppend[]): Promise<Attempt> {
    return this.record({ kind: 'batch', appends, outcome: 'unknown' }, () => store.appendToStreams(appends));
  }

  count(outcome: Outcome): number {
    return this.attempts.filter((a) => a.outcome === outcome).length;
  }

  /** Outcomes so far; `unknownStored`: unknown ones whose retry found them committed (the answer was lost, not the write). */
  counts(): { acked: number; refused: number; unknown: number; unknownStored: number } {
    const unknownStored = this.attempts.filter((a) => a.retried?.alreadyStored).length;
    return { acked: this.count('acked'), refused: this.count('refused'), unknown: this.count('unknown'), unknownStored };
  }

  /**
   * Retries every unknown attempt once with the same event ids at `'any'` (what
   * the README tells a caller to do): the retry must be acked, whether the
   * first try committed (then it writes nothing) or not.
   */
  async retryUnknown(store: EventStore): Promise<string[]> {
    const failures: string[] = [];
    for (const attempt of this.attempts.filter((a) => a.outcome === 'unknown')) {
      const appends = attempt.appends.map((a) => ({ ...a, expectedVersion: 'any' as const }));
      try {
        const written =
          attempt.kind === 'single'
            ? (await store.appendToStream(appends[0].streamId, appends[0].events)).written
            : (await store.appendToStreams(appends)).streams.some((s) => s.written);
        attempt.retried = { alreadyStored: !written };
      } catch (error) {
        failures.push(`retry of a ${attempt.kind} (${attempt.error}) failed: ${describe(error)}`);
      }
    }
    return failures;
  }

  /**
   * The log against what callers were told: an acked (or retried) write is
   * there exactly once, whole; a refused one is not there at all; an unknown
   * one is there whole or not at all, never twice. Returns the violations.
   */
  async check(q: Queryable, schema: string): Promise<string[]> {
    const ids = this.attempts.flatMap((a) => a.appends.flatMap((s) => s.events.map((e) => e.eventId!)));
    const rows = await q.query<{ event_id: string; stream_id: string; n: string }>(
      `SELECT event_id, min(stream_id) AS stream_id, count(*) AS n FROM "${schema}".events WHERE event_id = ANY($1::uuid[]) GROUP BY event_id`,
      [ids],
    );
    const stored = new Map(rows.map((r) => [r.event_id, { stream: r.stream_id, n: Number(r.n) }]));
    const violations: string[] = [];
    for (const attempt of this.attempts) {
      const events = attempt.appends.flatMap((s) => s.events.map((e) => ({ id: e.eventId!, stream: s.streamId })));
      const found = events.filter((e) => stored.has(e.id));
      const what = `${attempt.outcome}${attempt.retried ? '+retried' : ''} ${attempt.kind} of ${events.length} events (${attempt.error ?? 'ok'})`;
      if (found.some((e) => stored.get(e.id)!.n !== 1 || stored.get(e.id)!.stream !== e.stream)) {
        violations.push(`${what}: an event stored more than once or on another stream`);
      }
      const mustBeThere = attempt.outcome === 'acked' || attempt.retried;
      if (mustBeThere && found.length !== events.length) violations.push(`${what}: ${events.length - found.length} events missing`);
      if (attempt.outcome === 'refused' && found.length) violations.push(`${what}: ${found.length} events stored`);
      if (attempt.outcome === 'unknown' && found.length && found.length !== events.length) violations.push(`${what}: only partly stored`);
    }
    return violations;
  }

  private async record(attempt: Attempt, write: () => Promise<unknown>): Promise<Attempt> {
    this.attempts.push(attempt);
    try {
      await write();
      attempt.outcome = 'acked';
    } catch (error) {
      const code = (error as { code?: string }).code;
      const kind = (error as { kind?: string }).kind;
      const serverTimeout = code === 'EVENT_STORE.TIMEOUT' && kind !== 'no-answer';
      attempt.outcome = (code && REFUSALS.has(code)) || serverTimeout ? 'refused' : 'unknown';
      attempt.error = describe(error);
    }
    this.ended.push(attempt);
    return attempt;
  }
}

/** A short name for an error: its code (and timeout kind), else its message. */
export function describe(error: unknown): string {
  const e = error as { code?: string; kind?: string; message?: string };
  if (e?.code && e.kind) return `${e.code}/${e.kind}`;
  return e?.code ?? e?.message?.slice(0, 80) ?? String(error);
}
