import type { EventStore } from '../postgres/postgres-event-store';
import { toExported } from './export-format';
import { bulkImport, ImportInput, ImportOptions, ImportReport } from './import/bulk-import';

export { parseExportLine } from './export-format';
export type { ExportedEvent } from './export-format';
export type { ImportChunkHook, ImportInput, ImportOptions, ImportProgress, ImportReport, MovedOnStream } from './import/bulk-import';

/** Yields the log as JSON lines (each ends with "\n"), oldest first, exactly as stored. */
export async function* exportLines(store: EventStore, options: { fromPosition?: number } = {}): AsyncGenerator<string> {
  for await (const e of store.readAllStored({ fromPosition: options.fromPosition, batchSize: 2000 })) {
    yield JSON.stringify(toExported(e)) + '\n';
  }
}

/**
 * Imports an export stream (JSON lines, bytes or strings), keeping each
 * event's type, schema version, stream version, metadata and recordedAt (no
 * upcasting). The input is streamed into PostgreSQL with COPY, checked as a
 * whole, then written in chunks of `chunkSize` lines, each one transaction
 * (with `inChunk`, the application's own writes commit in it too).
 *
 * - Idempotent by event id: events already in the log are skipped, so a
 *   re-run writes nothing and a run resumed after a crash (each written chunk
 *   is committed) continues where it stopped.
 * - Nothing is written if any line is invalid, an event id appears twice, a
 *   stream's versions are not consecutive in line order, an id is stored as
 *   another event, or a stream's first new version does not continue the log
 *   (a gap, or a conflicting existing stream): `ImportLineError` names the line.
 * - A stream another writer appends to meanwhile (during this run, or after an
 *   earlier run wrote part of it) "moved on": its remaining lines are left out
 *   and reported in `movedOn`, and every other line is imported.
 * - Global order as for appends (ADR 0002): no reader skips an imported event;
 *   positions follow line order and may have gaps.
 * - Only events are written: rows an application derives from them are its
 *   own to rebuild (e.g. by a projection) after an import.
 */
export function importLines(store: EventStore, input: ImportInput, options: ImportOptions = {}): Promise<ImportReport> {
  return store.withBulkSession((client, target, announce) => bulkImport(client, target, input, options, announce));
}
