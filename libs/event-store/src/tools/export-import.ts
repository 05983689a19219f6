import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { EventStoreError, ImportLineError } from '../errors';
import type { EventToWrite } from '../postgres/append';
import type { EventStore } from '../postgres/postgres-event-store';
import type { StoredEvent } from '../types';

/** One line of the export format (JSON lines): a stored event without its position. Field names are a public contract. */
export type ExportedEvent = Omit<StoredEvent, 'position'>;

/** Yields the log as JSON lines (each ends with "\n"), oldest first, exactly as stored. */
export async function* exportLines(store: EventStore, options: { fromPosition?: number } = {}): AsyncGenerator<string> {
  for await (const e of store.readAllStored({ fromPosition: options.fromPosition, batchSize: 2000 })) {
    yield JSON.stringify(toExported(e)) + '\n';
  }
}

function toExported(e: StoredEvent): ExportedEvent {
  const { eventId, streamId, streamVersion, type, schemaVersion, data, metadata, recordedAt } = e;
  return { eventId, streamId, streamVersion, type, schemaVersion, data, metadata, recordedAt };
}

export interface ImportReport {
  imported: number;
  skipped: number;
  /** Global position of the last event written (0 when nothing was); use it as X-Min-Position. */
  position: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Parses and checks one line; throws `ImportLineError` naming the line. Types/versions are kept as they are. */
export function parseExportLine(text: string, line: number): ExportedEvent {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ImportLineError(line, 'not valid JSON');
  }
  const e = value as Partial<ExportedEvent>;
  const problems: string[] = [];
  if (!e || typeof e !== 'object' || Array.isArray(e)) throw new ImportLineError(line, 'not a JSON object');
  if (typeof e.eventId !== 'string' || !UUID.test(e.eventId)) problems.push('eventId must be a UUID');
  if (typeof e.streamId !== 'string' || !e.streamId || e.streamId.length > 200) problems.push('streamId must be 1..200 chars');
  if (!Number.isInteger(e.streamVersion) || (e.streamVersion as number) < 1) problems.push('streamVersion must be an integer >= 1');
  if (typeof e.type !== 'string' || !e.type) problems.push('type must be a non-empty string');
  if (!Number.isInteger(e.schemaVersion) || (e.schemaVersion as number) < 1) problems.push('schemaVersion must be an integer >= 1');
  if (!e.data || typeof e.data !== 'object' || Array.isArray(e.data)) problems.push('data must be an object');
  if (e.metadata !== undefined && (typeof e.metadata !== 'object' || e.metadata === null || Array.isArray(e.metadata))) {
    problems.push('metadata must be an object');
  }
  if (e.recordedAt !== undefined && Number.isNaN(Date.parse(e.recordedAt))) problems.push('recordedAt must be a date');
  if (problems.length) throw new ImportLineError(line, problems.join('; '));
  return { metadata: {}, recordedAt: new Date().toISOString(), ...e } as ExportedEvent;
}

/**
 * Appends an export stream to the store, keeping each event's type, schema
 * version, stream version, metadata and recordedAt (no upcasting). Events
 * whose id is already stored are skipped, so an import can be re-run.
 * Consecutive events of one stream are appended together; each run expects
 * the stream at the version just before its first event.
 */
export async function importLines(store: EventStore, input: Readable | AsyncIterable<string>): Promise<ImportReport> {
  const report: ImportReport = { imported: 0, skipped: 0, position: 0 };
  let run: ExportedEvent[] = [];
  let runStartLine = 0;
  const flush = async () => {
    if (run.length === 0) return;
    const known = await store.existingEventIds(run.map((e) => e.eventId));
    const events = run.filter((e) => !known.has(e.eventId));
    report.skipped += run.length - events.length;
    run = [];
    if (events.length === 0) return;
    const first = events[0];
    const toWrite: EventToWrite[] = events.map((e) => ({
      eventId: e.eventId,
      type: e.type,
      schemaVersion: e.schemaVersion,
      data: e.data,
      metadata: e.metadata,
      recordedAt: e.recordedAt,
    }));
    try {
      const result = await store.appendToStream(first.streamId, toWrite, { expectedVersion: first.streamVersion - 1 });
      report.position = Math.max(report.position, result.position);
      if (result.written) report.imported += events.length;
      else report.skipped += events.length; // raced with a concurrent import of the same lines
    } catch (error) {
      if (error instanceof EventStoreError) {
        throw new ImportLineError(runStartLine, `${error.code}: ${error.message} (${report.imported} imported before it)`);
      }
      throw error;
    }
  };
  const lines = isReadable(input) ? createInterface({ input, crlfDelay: Infinity }) : input;
  let lineNo = 0;
  for await (const raw of lines) {
    lineNo++;
    const text = raw.trim();
    if (!text) continue;
    const event = parseExportLine(text, lineNo);
    const prev = run[run.length - 1];
    const continues = prev && prev.streamId === event.streamId && prev.streamVersion + 1 === event.streamVersion;
    if (!continues || run.length >= 500) {
      await flush();
      runStartLine = lineNo;
    }
    run.push(event);
  }
  await flush();
  return report;
}

function isReadable(input: Readable | AsyncIterable<string>): input is Readable {
  return typeof (input as Readable).pipe === 'function';
}
