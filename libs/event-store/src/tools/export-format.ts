import { ImportLineError } from '../errors';
import type { StoredEvent } from '../types';

/** One line of the export format (JSON lines): a stored event without its position. Field names are a public contract. */
export type ExportedEvent = Omit<StoredEvent, 'position'>;

/** A stream or schema version: an integer from 1 up to PostgreSQL's integer range. */
const isVersion = (v: unknown) => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 2_147_483_647;

/** The earliest date a PostgreSQL timestamptz holds (4713 BC, year -4712), in ms; its latest is past JavaScript's. */
const FIRST_MS = Date.UTC(-4712, 0, 1);

/**
 * A string `Date.parse` reads, within PostgreSQL's range, whose calendar date
 * (if written YYYY-MM-DD) exists: no February 31 rolled into March.
 */
function isDate(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  const ms = Date.parse(value);
  if (!(ms >= FIRST_MS)) return false;
  const ymd = /^(\d{4})-(\d{2})-(\d{2})/.exec(value);
  if (!ymd) return true;
  const year = Number(ymd[1]);
  const month = Number(ymd[2]);
  const day = Number(ymd[3]);
  return month >= 1 && month <= 12 && day >= 1 && day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The export line of a stored event. */
export function toExported(e: StoredEvent): ExportedEvent {
  const { eventId, streamId, streamVersion, type, schemaVersion, data, metadata, recordedAt } = e;
  return { eventId, streamId, streamVersion, type, schemaVersion, data, metadata, recordedAt };
}

/**
 * Parses and checks one line; throws `ImportLineError` naming the line. Types
 * and versions are kept as they are. Import checks every line with it as it reads.
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
  if (!isVersion(e.streamVersion)) problems.push('streamVersion must be an integer >= 1');
  if (typeof e.type !== 'string' || !e.type) problems.push('type must be a non-empty string');
  if (!isVersion(e.schemaVersion)) problems.push('schemaVersion must be an integer >= 1');
  if (!e.data || typeof e.data !== 'object' || Array.isArray(e.data)) problems.push('data must be an object');
  if (e.metadata !== undefined && (typeof e.metadata !== 'object' || e.metadata === null || Array.isArray(e.metadata))) {
    problems.push('metadata must be an object');
  }
  if (e.recordedAt !== undefined && !isDate(e.recordedAt)) problems.push('recordedAt must be a date');
  if (problems.length) throw new ImportLineError(line, problems.join('; '));
  e.metadata ??= {};
  e.recordedAt ??= new Date().toISOString();
  return e as ExportedEvent;
}
