import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { importLines, type EventStore, type ExportedEvent, type ImportReport, type StreamAppend } from '../../src';
import type { Queryable } from '../../src';
import type { FaultyInstance } from './instance';
import { AppendLedger, deposit, describe } from './ledger';

/** A seeded PRNG (mulberry32): a scenario's plan is a function of its seed. */
export class Rng {
  constructor(private state: number) {}
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }
}

/** Live streams the writers share (so appends, batches and expected versions collide); the import writes streams of its own. */
const ACCOUNTS = 60;
/**
 * Pause between one writer's appends. The writers are not trying to load the
 * machine (2 cores, shared): the pause paces them so a scenario's log stays a
 * few thousand events and the checks stay quick.
 */
const WRITER_PACE_MS = 3;

/** Concurrent writers (single appends and `appendToStreams` batches) on whichever instance is up, until `stop()`. */
export class Writers {
  private stopping = false;
  private readonly loops: Promise<void>[] = [];
  /** A writer loop that threw outside an append (the ledger catches the appends' own failures): a harness fault. */
  readonly errors: string[] = [];

  constructor(
    private readonly instances: FaultyInstance[],
    private readonly ledger: AppendLedger,
    private readonly observer: EventStore,
    private readonly rng: Rng,
  ) {}

  start(singles: number, batches: number): void {
    for (let i = 0; i < singles; i++) this.loops.push(this.run((store) => this.single(store)));
    for (let i = 0; i < batches; i++) this.loops.push(this.run((store) => this.batch(store)));
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.loops);
  }

  private async run(write: (store: EventStore) => Promise<unknown>): Promise<void> {
    while (!this.stopping) {
      const up = this.instances.filter((i) => i.handle);
      if (up.length) await write(this.rng.pick(up).handle!.store).catch((e) => this.errors.push(`writer: ${describe(e)}`));
      await sleep(WRITER_PACE_MS);
    }
  }

  private async single(store: EventStore): Promise<void> {
    const streamId = `acct-${this.rng.int(0, ACCOUNTS - 1)}`;
    const events = Array.from({ length: this.rng.int(1, 3) }, () => deposit(this.rng.int(1, 97)));
    // One in five states the version it read a moment ago: some of those conflict (refused: nothing may be written).
    const expectedVersion = this.rng.next() < 0.2 ? await this.observer.streamVersion(streamId) : ('any' as const);
    await this.ledger.single(store, { streamId, events, expectedVersion });
  }

  private async batch(store: EventStore): Promise<void> {
    const first = this.rng.int(0, ACCOUNTS - 1);
    // Up to MAX_STREAMS_PER_BATCH (50) distinct streams, each once.
    const count = this.rng.int(2, 50);
    const appends: StreamAppend[] = Array.from({ length: count }, (_, k) => ({
      streamId: `acct-${(first + k) % ACCOUNTS}`,
      events: Array.from({ length: this.rng.int(1, 2) }, () => deposit(this.rng.int(1, 97))),
    }));
    await this.ledger.batch(store, appends);
  }
}

/**
 * A bulk import of history (streams of its own) that runs during the
 * scenario on one instance and, if a fault ends it, is run again after the
 * faults (resumable): in the end every line is in the log exactly once.
 */
export class Importer {
  readonly lines: ExportedEvent[];
  private running?: Promise<ImportReport | undefined>;
  /** Why runs failed, for the report. */
  readonly failures: string[] = [];
  report?: ImportReport;

  /** Stream ids of the file start with it. */
  readonly prefix = `imp-${randomUUID().slice(0, 8)}`;

  constructor(rng: Rng, count: number, streams: number) {
    const prefix = this.prefix;
    this.lines = Array.from({ length: count }, (_, i) => ({
      eventId: randomUUID(),
      streamId: `${prefix}-${i % streams}`,
      streamVersion: Math.floor(i / streams) + 1,
      type: 'Deposited',
      schemaVersion: 1,
      data: { amount: rng.int(1, 97) },
      metadata: {},
      recordedAt: '2024-06-01T00:00:00.000Z',
    }));
  }

  start(store: EventStore, chunkSize: number): void {
    this.running = this.run(store, chunkSize);
  }

  /** Waits for the run started during the scenario; re-runs on `store` (a healed link) until one completes. */
  async complete(store: EventStore, chunkSize: number): Promise<void> {
    await this.running;
    for (let attempt = 0; !this.report && attempt < 3; attempt++) await this.run(store, chunkSize);
  }

  private async run(store: EventStore, chunkSize: number): Promise<ImportReport | undefined> {
    const input = [Buffer.from(this.lines.map((l) => JSON.stringify(l) + '\n').join(''))];
    try {
      this.report = await importLines(store, input, { chunkSize });
    } catch (error) {
      this.failures.push(describe(error));
    }
    return this.report;
  }

  /**
   * Every line in the log exactly once, in line order, except the lines of a
   * stream that moved on (a live writer appended to it during the import), from
   * the line the report names; and the final report accounting for every line.
   */
  async violations(q: Queryable, schema: string): Promise<string[]> {
    if (!this.report) return [`the import never completed: ${this.failures.join('; ')}`];
    const out: string[] = [];
    const { imported, skipped, leftOut, movedOn } = this.report;
    const from = new Map(movedOn.map((m) => [m.streamId, m.line]));
    const kept = this.lines.filter((l, i) => !(from.has(l.streamId) && i + 1 >= from.get(l.streamId)!));
    if (imported + skipped + leftOut !== this.lines.length || kept.length !== imported + skipped) {
      out.push(`import report does not cover the file: ${JSON.stringify({ imported, skipped, leftOut, movedOn: movedOn.length })}`);
    }
    const rows = await q.query<{ event_id: string }[]>(
      `SELECT event_id FROM "${schema}".events WHERE event_id = ANY($1::uuid[]) ORDER BY position`,
      [this.lines.map((l) => l.eventId)],
    );
    if (rows.length !== kept.length) out.push(`import: ${rows.length} lines in the log, ${kept.length} not left out`);
    else if (rows.some((r, i) => r.event_id !== kept[i].eventId)) out.push('import: the log does not hold the kept lines in line order');
    return out;
  }
}
