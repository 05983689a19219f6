import { Readable } from 'node:stream';
import type { PoolClient } from 'pg';
import type { AppendTarget } from '../../postgres/append';
import { checkLines, LineRow } from './check-lines';
import { CopyLineEncoder } from './copy-encoder';
import { stageLines } from './stage-lines';
import { ImportChunkHook, writeChunk } from './write-chunk';
import * as sql from './import-sql';

export type { ImportChunkHook } from './write-chunk';

/** A stream another writer appended to while the import was writing it: its lines from `line` on were left out. */
export interface MovedOnStream {
  streamId: string;
  /** The first line of the stream left out. */
  line: number;
  /** That line's stream version, which the log already has as another event. */
  streamVersion: number;
}

/** Result of an import. Field names are a public contract (CLI output, `POST /admin/events/import`). */
export interface ImportReport {
  /** Events written by this run. */
  imported: number;
  /** Events of the input already in the log (by event id): a re-run, or a run resumed after a crash. */
  skipped: number;
  /** Global position of the last event written (0 when nothing was); use it as X-Min-Position. */
  position: number;
  /** Events left out because their stream moved on (see `movedOn`). */
  leftOut: number;
  /** Up to 1000 streams that moved on, by line. */
  movedOn: MovedOnStream[];
}

/** Where an import is: reading the input, checking it against the log, writing it. */
export interface ImportProgress {
  phase: 'reading' | 'checking' | 'writing';
  bytesRead: number;
  /** Size of the input when known (a file, a Content-Length). */
  totalBytes?: number;
  written: number;
  toWrite: number;
}

/** What an import reads: a byte stream (a file, an HTTP body) or any (async) iterable of chunks or lines with their newlines. */
export type ImportInput = Readable | AsyncIterable<string | Buffer> | Iterable<string | Buffer>;

export interface ImportOptions {
  /**
   * Called as the import advances: every `progressEveryMs` while reading, at
   * each phase, before each write chunk. A promise it returns is awaited
   * (except while reading), and a throw stops the import there: the chunks
   * written so far stay, and a re-run continues after them.
   */
  onProgress?: (progress: ImportProgress) => void | Promise<void>;
  progressEveryMs?: number;
  totalBytes?: number;
  /**
   * Lines per write transaction (default 10000), and per statement of the
   * checks that write: each holds global readers back while it runs.
   */
  chunkSize?: number;
  /** Runs in each write chunk's transaction with the events it wrote. */
  inChunk?: ImportChunkHook;
}

/** Runs an import on `client` (a dedicated session: temp tables, no statement timeout). `announce` tells listeners. */
export async function bulkImport(
  client: PoolClient,
  target: AppendTarget,
  input: ImportInput,
  options: ImportOptions,
  announce: (position: number) => void,
): Promise<ImportReport> {
  const chunkSize = options.chunkSize ?? 10_000;
  const progress: ImportProgress = { phase: 'reading', bytesRead: 0, totalBytes: options.totalBytes, written: 0, toWrite: 0 };
  const tell = async () => options.onProgress?.({ ...progress });
  await client.query(`${sql.CREATE_STAGING}; ${sql.CREATE_STORED}; ${sql.CREATE_MOVED_ON}`);
  const encoder = new CopyLineEncoder();
  await tell();
  const ticker = setInterval(() => {
    progress.bytesRead = encoder.bytesIn;
    // Reports between phases are best effort; the phase reports below are awaited.
    void tell().catch(() => undefined);
  }, options.progressEveryMs ?? 250);
  const source = input instanceof Readable ? input : Readable.from(input);
  try {
    await stageLines(client, source, encoder);
  } finally {
    clearInterval(ticker);
  }
  progress.bytesRead = encoder.bytesIn;
  progress.phase = 'checking';
  await tell();
  const { stored, lines, clean } = await checkLines(client, target.schema, encoder.lines, chunkSize);
  const state = { clean };
  const report: ImportReport = { imported: 0, skipped: 0, position: 0, leftOut: 0, movedOn: [] };
  progress.phase = 'writing';
  progress.toWrite = lines - stored;
  for (let after = 0; after < encoder.lines; after += chunkSize) {
    await tell();
    const { written, position } = await writeChunk(
      client,
      target,
      { after, end: Math.min(after + chunkSize, encoder.lines), state },
      options.inChunk,
    );
    report.imported += written;
    report.position = Math.max(report.position, position);
    if (written) announce(report.position);
    progress.written = report.imported;
  }
  report.leftOut = (await client.query<{ n: number }>(sql.LEFT_OUT)).rows[0].n;
  const moved = await client.query<LineRow & { stream_id: string; stream_version: number }>(sql.MOVED_ON);
  report.movedOn = moved.rows.map((m) => ({ streamId: m.stream_id, line: Number(m.line), streamVersion: m.stream_version }));
  // Every line is an event now written by this run, in the log already (by id), or left out.
  report.skipped = lines - report.imported - report.leftOut;
  if (await outgrewStatistics(client, target.schema, report.imported)) await client.query(sql.ANALYZE_EVENTS(target.schema));
  await tell();
  return report;
}

/**
 * A bulk import can outgrow the table's statistics before autovacuum notices. Without them the
 * planner reads the rest of the log for each keyset batch of a global reader (verify, projections).
 * An import of less than a tenth of the log as last analyzed leaves them as good as autovacuum
 * would (it analyzes after changes of a tenth, `autovacuum_analyze_scale_factor`'s default).
 */
async function outgrewStatistics(client: PoolClient, schema: string, imported: number): Promise<boolean> {
  if (imported === 0) return false;
  const [{ rows }] = (await client.query<{ rows: number }>(sql.PLANNED_ROWS, [`${schema}.events`])).rows;
  return rows <= 0 || imported * 10 >= rows;
}
