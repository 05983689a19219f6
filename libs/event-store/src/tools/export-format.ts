import { ImportLineError } from '../errors';
import type { StoredEvent } from '../types';

/** One line of the export format (JSON lines): a stored event without its position. Field names are a public contract. */
export type ExportedEvent = Omit<StoredEvent, 'position'>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The export line of a stored event. */
export function toExported(e: StoredEvent): ExportedEvent {
  const { eventId, streamId, streamVersion, type, schemaVersion, data, metadata, recordedAt } = e;
  return { eventId, streamId, streamVersion, type, schemaVersion, data, metadata, recordedAt };
}

/**
 * Parses and checks one line; throws `ImportLineError` naming the line. Types
 * and versions are kept as they are. Import applies the same rules in SQL,
 * with the same messages.
 */
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
