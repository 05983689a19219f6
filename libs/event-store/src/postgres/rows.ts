import type { StoredEvent } from '../types';

/**
 * Column list shared by every read so rows map the same way everywhere. `recorded_at` comes
 * as the ISO text `Date.prototype.toISOString` would give (UTC, milliseconds truncated): made
 * by the server, it spares the reader a Date parse and a format per event.
 */
export const EVENT_COLUMNS = `position, event_id, stream_id, stream_version, type, schema_version, data, metadata,
  to_char(date_trunc('milliseconds', recorded_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS recorded_at`;

export interface EventRow {
  position: string;
  event_id: string;
  stream_id: string;
  stream_version: number;
  type: string;
  schema_version: number;
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
  recorded_at: string;
}

/** Maps a database row to the public stored-event shape. */
export function toStoredEvent(row: EventRow): StoredEvent {
  return {
    position: Number(row.position),
    streamId: row.stream_id,
    streamVersion: row.stream_version,
    eventId: row.event_id,
    type: row.type,
    schemaVersion: row.schema_version,
    data: row.data,
    metadata: row.metadata,
    recordedAt: row.recorded_at,
  };
}
