import { Readable } from 'node:stream';
import type { PoolClient, QueryResultRow } from 'pg';
import { ImportLineError } from '../../errors';
import type { AppendTarget } from '../../postgres/append';
import { pgFields } from '../../postgres/pg-errors';
import { CopyLineEncoder } from './copy-encoder';
import { stageLines } from './stage-lines';
import * as sql from './import-sql';

/** Result of an import. Field names are a public contract (CLI output, `POST /admin/events/import`). */
export interface ImportReport {
  /** Events written by this run. */
  imported: number;
  /** Events of the input already in the log (by event id): a re-run, or a run resumed after a crash. */
  skipped: number;
  /** Global position of the last event written (0 when nothing was); use it as X-Min-Position. */
  position: number;
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
  /** Events per write transaction. Default 10000: each chunk holds global readers back while it commits. */
  chunkSize?: number;
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
  await client.query(sql.CREATE_STAGING);
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
  const { stored, lines } = await checkLines(client, target.schema);
  const report: ImportReport = { imported: 0, skipped: 0, position: 0 };
  progress.phase = 'writing';
  progress.toWrite = lines - stored;
  for (let after = 0; after < encoder.lines; after += chunkSize) {
    await tell();
    const end = Math.min(after + chunkSize, encoder.lines);
    const { written, position } = await moveChunk(client, target, after, end, report.imported);
    report.imported += written;
    report.position = Math.max(report.position, Number(position));
    if (written) announce(report.position);
    progress.written = report.imported;
  }
  // Every line is an event that is now written by this run or was in the log already (by id).
  report.skipped = lines - report.imported;
  // A bulk import can outgrow the table's statistics before autovacuum notices. Without them the
  // planner reads the rest of the log for each keyset batch of a global reader (verify, projections).
  if (report.imported > 0) await client.query(sql.ANALYZE_EVENTS(target.schema));
  await tell();
  return report;
}

/**
 * Checks the file against itself and the log, set-based, before anything is
 * written (each line was already checked on its own while it was read);
 * throws `ImportLineError` naming a line that cannot be imported. Returns how
 * many events the file has and how many of them the log already has.
 */
async function checkLines(client: PoolClient, schema: string): Promise<{ stored: number; lines: number }> {
  const first = async <R extends QueryResultRow>(text: string, values?: unknown[]) =>
    (await client.query<R>(text, values)).rows[0] as R | undefined;
  await client.query(sql.INDEX_STAGING);
  await client.query(sql.FIND_STORED(schema));
  await client.query(sql.INDEX_STORED);
  const twice = await first<{ event_id: string }>(sql.DUPLICATE_ID);
  if (twice) {
    const [a, b] = (await client.query<LineRow>(sql.LINES_OF_ID, [twice.event_id])).rows.map((r) => r.line);
    throw new ImportLineError(Number(b), `eventId ${twice.event_id} appears twice (first on line ${a})`);
  }
  const elsewhere = await first<LineRow & { event_id: string; stored_stream: string; stored_version: number }>(sql.FIRST_STORED_ELSEWHERE);
  if (elsewhere) {
    throw new ImportLineError(
      Number(elsewhere.line),
      `eventId ${elsewhere.event_id} is already stored as another event ` +
        `(stream "${elsewhere.stored_stream}" v${elsewhere.stored_version})`,
    );
  }
  const broken = await first<VersionBreak>(sql.FIRST_VERSION_BREAK(schema));
  if (broken) throw new ImportLineError(Number(broken.line), versionBreak(broken));
  return (await first<{ stored: number; lines: number }>(sql.COUNTS))!;
}

/** A line number of the staged file (a bigint: pg hands it over as a string). */
type LineRow = { line: string };
type VersionBreak = LineRow & { stream_id: string; stream_version: number; previous: number | null; current: number | null };

function versionBreak(b: VersionBreak): string {
  if (b.previous !== null && b.stream_version !== b.previous + 1) {
    return (
      `stream "${b.stream_id}" has version ${b.stream_version} after version ${b.previous}: ` +
      `a stream's versions must be consecutive, in line order`
    );
  }
  return Number(b.stream_version) > Number(b.current) + 1
    ? `stream "${b.stream_id}" is at version ${b.current} in the log: version ${b.stream_version} would leave a gap`
    : `stream "${b.stream_id}" already has version ${b.stream_version} in the log (another event): conflicting existing stream`;
}

/** One chunk, one transaction. Another writer that took an id or a version since the checks makes it fail, naming the line. */
async function moveChunk(client: PoolClient, target: AppendTarget, after: number, end: number, importedBefore: number) {
  try {
    const { rows } = await client.query<{ written: number; position: string }>(sql.MOVE_CHUNK(target.schema), [
      ...target.sequenceLock,
      after,
      end,
    ]);
    return rows[0];
  } catch (error) {
    const pg = pgFields(error);
    const key = pg.code === '23505' ? /=\((.*)\) already exists/.exec(pg.detail ?? '') : null;
    if (!key) throw error;
    const byVersion = /^(.*), (\d+)$/.exec(key[1]);
    const [row] =
      pg.constraint === 'events_stream_version_key' && byVersion
        ? (await client.query<LineRow>(sql.LINE_OF_VERSION, [byVersion[1], Number(byVersion[2])])).rows
        : (await client.query<LineRow>(sql.LINE_OF_ID, [key[1]])).rows;
    throw new ImportLineError(
      Number(row?.line ?? 0),
      `another writer stored ${
        pg.constraint === 'events_stream_version_key' ? `stream "${byVersion?.[1]}" version ${byVersion?.[2]}` : `event ${key[1]}`
      } during the import ` + `(${importedBefore} imported before this chunk; run the import again to continue)`,
    );
  }
}
