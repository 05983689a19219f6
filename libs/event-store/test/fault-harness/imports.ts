import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { EventStore, Queryable } from '../../src';
import { importLines, type ExportedEvent, type ImportReport } from '../../src/tools';
import type { FaultyInstance } from './instance';
import { describe } from './ledger';
import type { Rng } from './workload';

const CHUNK_LINES = 400;
const RETRY_PAUSE_MS = 100;

/**
 * Bulk imports back to back, each on whichever instance is up, from the
 * start of the faults to their end, so every fault meets an import in flight
 * (and the global reader reads during one). Files that a fault ended are
 * completed after healing.
 */
export class Imports {
  readonly files: ImportFile[] = [];
  private readonly run = `imp-${randomUUID().slice(0, 8)}`;
  private stopping = false;
  private loop?: Promise<void>;

  constructor(
    private readonly instances: FaultyInstance[],
    private readonly rng: Rng,
  ) {}

  /** Stream ids of the file being imported now start with it. */
  get currentPrefix(): string | undefined {
    return this.files[this.files.length - 1]?.prefix;
  }

  start(): void {
    this.loop = (async () => {
      while (!this.stopping) {
        const file = new ImportFile(`${this.run}-${this.files.length}`, this.rng, this.rng.int(1_000, 2_500), this.rng.int(10, 100));
        this.files.push(file);
        for (let tries = 0; !file.report && tries < 3 && !this.stopping; tries++) {
          // A client backs off before it runs a failed import again (a cut link refuses at once: no tight loop).
          if (tries) await sleep(RETRY_PAUSE_MS);
          const up = this.instances.filter((i) => i.handle);
          await file.start(this.rng.pick(up.length ? up : this.instances).handle!.store, CHUNK_LINES);
        }
      }
    })();
  }

  /** Stops starting files, then completes every file on `store` (a healed link). */
  async complete(store: EventStore): Promise<void> {
    this.stopping = true;
    await this.loop;
    for (const file of this.files) await file.complete(store, CHUNK_LINES);
  }

  async violations(q: Queryable, schema: string): Promise<string[]> {
    const out: string[] = [];
    for (const file of this.files) out.push(...(await file.violations(q, schema)));
    return out;
  }

  /** Totals over the files, for the report (`stored`: lines in the log after the final runs, `leftOut`: of moved-on streams). */
  summary(): { files: number; lines: number; stored: number; leftOut: number; movedOn: number; failures: string[] } {
    const sum = (f: (x: ImportFile) => number) => this.files.reduce((n, x) => n + f(x), 0);
    return {
      files: this.files.length,
      lines: sum((x) => x.lines.length),
      stored: sum((x) => (x.report ? x.report.imported + x.report.skipped : 0)),
      leftOut: sum((x) => x.report?.leftOut ?? 0),
      movedOn: sum((x) => x.report?.movedOn.length ?? 0),
      failures: this.files.flatMap((x) => x.failures),
    };
  }
}

/**
 * One file of history (streams of its own) imported during the scenario on
 * one instance and, if a fault ends the run, run again after the faults
 * (resumable): in the end every line is in the log exactly once, unless its
 * stream moved on.
 */
export class ImportFile {
  readonly lines: ExportedEvent[];
  private running?: Promise<ImportReport | undefined>;
  /** Why runs failed, for the report. */
  readonly failures: string[] = [];
  report?: ImportReport;

  constructor(
    /** Stream ids of the file start with it. */
    readonly prefix: string,
    rng: Rng,
    count: number,
    streams: number,
  ) {
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

  /** Runs the import on `store` once; a failure is kept for the report. */
  start(store: EventStore, chunkSize: number): Promise<ImportReport | undefined> {
    this.running = this.run(store, chunkSize);
    return this.running;
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
    if (!this.report) return [`import ${this.prefix} never completed: ${this.failures.join('; ')}`];
    const out: string[] = [];
    const { imported, skipped, leftOut, movedOn } = this.report;
    const from = new Map(movedOn.map((m) => [m.streamId, m.line]));
    const kept = this.lines.filter((l, i) => !(from.has(l.streamId) && i + 1 >= from.get(l.streamId)!));
    if (imported + skipped + leftOut !== this.lines.length || kept.length !== imported + skipped) {
      out.push(
        `import ${this.prefix}: its report does not cover the file: ${JSON.stringify({ imported, skipped, leftOut, movedOn: movedOn.length })}`,
      );
    }
    const rows = await q.query<{ event_id: string }>(
      `SELECT event_id FROM "${schema}".events WHERE event_id = ANY($1::uuid[]) ORDER BY position`,
      [this.lines.map((l) => l.eventId)],
    );
    if (rows.length !== kept.length) out.push(`import ${this.prefix}: ${rows.length} lines in the log, ${kept.length} not left out`);
    else if (rows.some((r, i) => r.event_id !== kept[i].eventId))
      out.push(`import ${this.prefix}: the log does not hold the kept lines in line order`);
    return out;
  }
}
