import { randomUUID } from 'node:crypto';
import { InvalidAppendError } from '../errors';
import type { TraceMetadata } from '../tracing/event-trace';
import type { EventToAppend, ExpectedVersion } from '../types';

/** An event as the low-level append takes it; `recordedAt` is only set by import to keep history's timestamps. */
export interface EventToWrite extends EventToAppend {
  recordedAt?: string;
}

/** Most events one `appendToStream` call takes. */
export const MAX_EVENTS_PER_APPEND = 1000;
/** Longest stream id, in characters. */
export const MAX_STREAM_ID_LENGTH = 200;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The per-event columns of an append, as the SQL functions take them (one array per column). */
export interface EventColumns {
  ids: string[];
  types: string[];
  versions: number[];
  data: string[];
  metadata: string[];
  recorded: Array<string | null>;
}

/** Throws `InvalidAppendError` unless `streamId` and `expected` are acceptable. */
export function checkStream(streamId: string, expected: ExpectedVersion): void {
  if (typeof streamId !== 'string' || streamId.length === 0 || streamId.length > MAX_STREAM_ID_LENGTH) {
    throw new InvalidAppendError(`streamId must be a string of 1..${MAX_STREAM_ID_LENGTH} characters`);
  }
  const ok =
    ['any', 'no_stream', 'stream_exists'].includes(expected as string) || (Number.isInteger(expected) && (expected as number) >= 0);
  if (!ok) throw new InvalidAppendError(`expectedVersion ${String(expected)} is not valid`);
}

/**
 * Checks every event (ids unique across `seen`, type, schema version, data an
 * object) and gives each one without an id a fresh one, so a retry of the
 * same objects is idempotent.
 */
export function checkEvents(events: EventToWrite[], seen: Set<string>): void {
  for (const e of events) {
    if (e === null || typeof e !== 'object') throw new InvalidAppendError('every event must be an object');
    if (e.eventId !== undefined && (typeof e.eventId !== 'string' || !UUID.test(e.eventId))) {
      throw new InvalidAppendError(`eventId "${e.eventId}" is not a UUID`);
    }
    e.eventId ??= randomUUID();
    const id = e.eventId.toLowerCase();
    if (seen.has(id)) throw new InvalidAppendError(`eventId ${e.eventId} appears twice`);
    seen.add(id);
    if (!e.type || typeof e.type !== 'string' || !Number.isInteger(e.schemaVersion) || e.schemaVersion < 1) {
      throw new InvalidAppendError('every event needs a type and an integer schemaVersion >= 1');
    }
    if (e.data === null || typeof e.data !== 'object' || Array.isArray(e.data)) {
      throw new InvalidAppendError(`${e.type}: data must be a JSON object`);
    }
  }
}

/**
 * Appends the columns of `events` to `into`, stamping `occurredAt` (and the append's trace context,
 * `stamp`) into metadata where the caller did not.
 */
export function addColumns(into: EventColumns, events: EventToWrite[], occurredAt: string, stamp: TraceMetadata = {}): void {
  for (const e of events) {
    into.ids.push(e.eventId as string);
    into.types.push(e.type);
    into.versions.push(e.schemaVersion);
    into.data.push(JSON.stringify(e.data));
    into.metadata.push(JSON.stringify({ occurredAt, ...stamp, ...e.metadata }));
    into.recorded.push(e.recordedAt ?? null);
  }
}

/** Empty column arrays. */
export function emptyColumns(): EventColumns {
  return { ids: [], types: [], versions: [], data: [], metadata: [], recorded: [] };
}
