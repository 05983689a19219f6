import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { ImportLineError } from '../../errors';
import type { AppendTarget } from '../../postgres/append';
import { pgFields } from '../../postgres/pg-errors';
import { CopyLineEncoder } from './copy-encoder';
import { findFirstUnparsableLine } from './find-bad-line';
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
  /** Called as the import advances (at most every `progressEveryMs` while reading, and once per written chunk). */
  onProgress?: (progress: ImportProgress) => void;
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
  const tell = () => options.onProgress?.({ ...progress });
  await client.query(sql.CREATE_LINES);
  const encoder = new CopyLineEncoder();
  tell();
  const ticker = setInterval(() => ((progress.bytesRead = encoder.bytesIn), tell()), options.progressEveryMs ?? 250);
  try {
    await pipeline(input instanceof Readable ? input : Readable.from(input), encoder, client.query(copyFrom(sql.COPY_LINES)));
  } finally {
    clearInterval(ticker);
  }
  progress.bytesRead = encoder.bytesIn;
  progress.phase = 'checking';
  tell();
  await checkLines(client, target.schema);
  const { stored, fresh } = (await client.query(sql.PLAN_COUNTS)).rows[0];
  const report: ImportReport = { imported: 0, skipped: stored, position: 0 };
  progress.phase = 'writing';
  progress.toWrite = fresh;
  tell();
  for (let done = 0; done < fresh; done += chunkSize) {
    const size = Math.min(chunkSize, fresh - done);
    const { written, position } = await moveChunk(client, target, size, done, report.imported);
    report.imported += written;
    report.skipped += size - written;
    report.position = Math.max(report.position, Number(position));
    if (written) announce(report.position);
    progress.written = done + size;
    tell();
  }
  return report;
}

/** Parses and checks every line, set-based; throws `ImportLineError` at the first line that cannot be imported. */
async function checkLines(client: PoolClient, schema: string): Promise<void> {
  const first = async (text: string) => (await client.query(text)).rows[0];
  try {
    await client.query(sql.PARSE_LINES);
  } catch (error) {
    if (!/^22/.test(pgFields(error).code ?? '')) throw error;
    throw await findFirstUnparsableLine(client, error);
  }
  const invalid = await first(sql.FIRST_INVALID);
  if (invalid) throw new ImportLineError(Number(invalid.line), invalid.problems);
  await client.query('DROP TABLE es_import_lines');
  await client.query('ANALYZE es_import_rows');
  const twice = await first(sql.FIRST_DUPLICATE_ID);
  if (twice) throw new ImportLineError(Number(twice.line), `eventId ${twice.event_id} appears twice (first on line ${twice.first_line})`);
  const order = await first(sql.FIRST_VERSION_OUT_OF_ORDER);
  if (order) {
    throw new ImportLineError(Number(order.line), `stream "${order.stream_id}" has version ${order.stream_version} after ` +
      `version ${order.previous}: a stream's versions must be consecutive, in line order`);
  }
  await client.query(sql.PLAN(schema));
  await client.query(sql.INDEX_PLAN);
  await client.query('ANALYZE es_import_plan');
  const elsewhere = await first(sql.FIRST_STORED_ELSEWHERE);
  if (elsewhere) {
    throw new ImportLineError(Number(elsewhere.line), `eventId ${elsewhere.event_id} is already stored as another event ` +
      `(stream "${elsewhere.stored_stream}" v${elsewhere.stored_version})`);
  }
  const gap = await first(sql.FIRST_DISCONTINUITY(schema));
  if (gap) {
    throw new ImportLineError(Number(gap.line), gap.stream_version > gap.current + 1
      ? `stream "${gap.stream_id}" is at version ${gap.current} in the log: version ${gap.stream_version} would leave a gap`
      : `stream "${gap.stream_id}" already has version ${gap.stream_version} in the log (another event): conflicting existing stream`);
  }
}

/** One chunk, one transaction. A live append that takes a version first makes the chunk fail, naming the line. */
async function moveChunk(client: PoolClient, target: AppendTarget, size: number, after: number, importedBefore: number) {
  try {
    const { rows } = await client.query(sql.MOVE_CHUNK(target.schema), [size, ...target.sequenceLock, after]);
    return rows[0] as { written: number; position: string };
  } catch (error) {
    const pg = pgFields(error);
    const taken = pg.code === '23505' && /=\((.*), (\d+)\) already exists/.exec(pg.detail ?? '');
    if (!taken) throw error;
    const [row] = (await client.query(sql.LINE_OF_VERSION, [taken[1], Number(taken[2])])).rows;
    throw new ImportLineError(Number(row?.line ?? 0), `stream "${taken[1]}" version ${taken[2]} was written by another writer ` +
      `during the import (${importedBefore} imported before it; run the import again to continue)`);
  }
}
