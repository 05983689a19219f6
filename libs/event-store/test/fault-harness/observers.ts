import { setTimeout as sleep } from 'node:timers/promises';
import type { EventStore } from '../../src';
import type { Queryable } from '../../src';
import { describe } from './ledger';

/** Pace of the observers' polls: they watch a workload that runs on its own, so they poll at a fixed pace rather than wait for a signal. */
const OBSERVE_EVERY_MS = 20;

/**
 * A global reader following the log the way a projection's feed does
 * (`readBatch` from the position after the last one it returned), on a link
 * of its own that no fault touches, while the workload and the faults run.
 * It keeps every position it was given, to show afterwards that it never
 * skipped one nor saw one twice.
 */
export class GlobalReader {
  readonly seen: number[] = [];
  private stopping = false;
  private loop?: Promise<void>;
  private stopAt = Number.POSITIVE_INFINITY;
  /** A read that failed: the reader is on a sound link, so any failure is a finding. */
  error?: unknown;

  constructor(
    private readonly store: EventStore,
    private readonly batchSize = 400,
  ) {}

  start(): void {
    this.loop = this.follow();
  }

  get position(): number {
    return this.seen.length ? this.seen[this.seen.length - 1] : 0;
  }

  /** Reads on until it has returned `head` (every write has ended by then), then stops. */
  async finish(head: number): Promise<void> {
    this.stopAt = head;
    await this.loop;
  }

  private async follow(): Promise<void> {
    try {
      while (!this.stopping && this.position < this.stopAt) {
        const rows = await this.store.readBatch(this.position + 1, Number.MAX_SAFE_INTEGER, this.batchSize);
        for (const row of rows) this.seen.push(row.position);
        if (!rows.length) await sleep(OBSERVE_EVERY_MS);
      }
    } catch (error) {
      this.error = error;
    }
  }

  stop(): Promise<void> | undefined {
    this.stopping = true;
    return this.loop;
  }

  /** Positions the reader was given twice or out of order, and positions of the log at or below its last one it never got. */
  async violations(q: Queryable, schema: string): Promise<string[]> {
    const out: string[] = [];
    if (this.error) out.push(`the global reader failed: ${describe(this.error)}`);
    for (let i = 1; i < this.seen.length; i++) {
      if (this.seen[i] <= this.seen[i - 1]) out.push(`the global reader got ${this.seen[i]} after ${this.seen[i - 1]}`);
    }
    const rows = await q.query<{ position: string }>(`SELECT position FROM "${schema}".events WHERE position <= $1 ORDER BY position`, [
      this.position,
    ]);
    const seen = new Set(this.seen);
    const skipped = rows.map((r) => Number(r.position)).filter((p) => !seen.has(p));
    if (skipped.length) out.push(`the global reader skipped ${skipped.length} positions, first ${skipped.slice(0, 5).join(', ')}`);
    if (rows.length !== this.seen.length)
      out.push(`the global reader got ${this.seen.length} events, the log has ${rows.length} up to ${this.position}`);
    return out;
  }
}

/** Samples a projection's shared checkpoint throughout a scenario (on a sound link): it must never go back. */
export class CheckpointSampler {
  readonly samples: number[] = [];
  private stopping = false;
  private loop?: Promise<void>;
  error?: unknown;

  constructor(
    private readonly q: Queryable,
    private readonly schema: string,
    private readonly name: string,
  ) {}

  start(): void {
    this.loop = (async () => {
      try {
        while (!this.stopping) {
          const rows = await this.q.query<{ position: string }>(`SELECT position FROM "${this.schema}".projections WHERE name = $1`, [
            this.name,
          ]);
          if (rows.length) this.samples.push(Number(rows[0].position));
          await sleep(OBSERVE_EVERY_MS);
        }
      } catch (error) {
        this.error = error;
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.loop;
  }

  violations(): string[] {
    const out: string[] = [];
    if (this.error) out.push(`the checkpoint sampler failed: ${describe(this.error)}`);
    for (let i = 1; i < this.samples.length; i++) {
      if (this.samples[i] < this.samples[i - 1]) out.push(`checkpoint went back from ${this.samples[i - 1]} to ${this.samples[i]}`);
    }
    return out;
  }
}
