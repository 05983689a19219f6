import type { PoolClient, QueryResultRow } from 'pg';
import { ImportLineError } from '../../errors';
import * as sql from './import-sql';

/** A line number of the staged file (a bigint: pg hands it over as a string). */
export type LineRow = { line: string };
type VersionBreak = LineRow & { stream_id: string; stream_version: number; previous: number | null; current: number | null };

/**
 * Checks the file against itself and the log, set-based, before anything is
 * written (each line was already checked on its own while it was read);
 * throws `ImportLineError` naming a line that cannot be imported. Finds the
 * lines the log has, in ranges of `rangeLines` (each a write, so as short as a
 * chunk), and the streams that moved on since an earlier run wrote part of
 * them. Returns how many events the file has, how many the log has already,
 * and whether that is none (`clean`: a first run, whose checks and writes
 * skip what only stored lines need).
 */
export async function checkLines(client: PoolClient, schema: string, lastLine: number, rangeLines: number) {
  const first = async <R extends QueryResultRow>(text: string, values?: unknown[]) =>
    (await client.query<R>(text, values)).rows[0] as R | undefined;
  let found = 0;
  for (let after = 0; after < lastLine; after += rangeLines) {
    found += (await client.query(sql.FIND_STORED(schema), [after, Math.min(after + rangeLines, lastLine)])).rowCount ?? 0;
  }
  const clean = found === 0;
  const twice = await first<{ event_id: string }>(sql.DUPLICATE_ID);
  if (twice) {
    const [a, b] = (await client.query<LineRow>(sql.LINES_OF_ID, [twice.event_id])).rows.map((r) => r.line);
    throw new ImportLineError(Number(b), `eventId ${twice.event_id} appears twice (first on line ${a})`);
  }
  // With no line stored, no id can be stored as another event and no stream can have moved on.
  if (!clean) await recordStoredLines(client, schema, lastLine, rangeLines);
  const broken = await first<VersionBreak>(sql.FIRST_VERSION_BREAK(schema, clean));
  if (broken) throw new ImportLineError(Number(broken.line), versionBreak(broken));
  return { ...(await first<{ stored: number; lines: number }>(sql.COUNTS))!, clean };
}

/** Refuses ids stored as other events, and records the streams that moved on since an earlier run. */
async function recordStoredLines(client: PoolClient, schema: string, lastLine: number, rangeLines: number): Promise<void> {
  await refuseStoredElsewhere(client, 0, lastLine);
  const { rows: moved } = await client.query<LineRow & { stream_id: string }>(sql.FIND_MOVED_ON(schema));
  for (let at = 0; at < moved.length; at += rangeLines) {
    const some = moved.slice(at, at + rangeLines);
    await client.query(sql.ADD_MOVED_ON, [some.map((m) => m.stream_id), some.map((m) => m.line)]);
  }
}

/** Throws for a line in (after, end] whose event id the log has as another event. */
export async function refuseStoredElsewhere(client: PoolClient, after: number, end: number): Promise<void> {
  type Elsewhere = LineRow & { event_id: string; stored_stream: string; stored_version: number };
  const [elsewhere] = (await client.query<Elsewhere>(sql.FIRST_STORED_ELSEWHERE, [after, end])).rows;
  if (elsewhere) {
    throw new ImportLineError(
      Number(elsewhere.line),
      `eventId ${elsewhere.event_id} is already stored as another event ` +
        `(stream "${elsewhere.stored_stream}" v${elsewhere.stored_version})`,
    );
  }
}

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
