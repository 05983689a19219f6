/** Free-form metadata stored beside each event. `occurredAt` is always set by the store if missing. */
export interface EventMetadata {
  occurredAt?: string;
  correlationId?: string;
  causationId?: string;
  /** W3C trace context of the append that wrote the event, when tracing was on (set by the store unless given). */
  traceparent?: string;
  tracestate?: string;
  [key: string]: unknown;
}

/**
 * What the stream must look like for an append to succeed:
 * a number (the stream's current version; 0 = no events), `'any'`,
 * `'no_stream'` (stream has no events) or `'stream_exists'`.
 */
export type ExpectedVersion = number | 'any' | 'no_stream' | 'stream_exists';

/** An event to append, already serialised to its registered type and schema version. */
export interface EventToAppend {
  eventId?: string;
  type: string;
  schemaVersion: number;
  data: Record<string, unknown>;
  metadata?: EventMetadata;
}

/**
 * A row of the log exactly as stored (no upcasting). `position` is the global position
 * (a PostgreSQL bigint; safe as a JS number below 2^53).
 */
export interface StoredEvent {
  position: number;
  streamId: string;
  streamVersion: number;
  eventId: string;
  type: string;
  schemaVersion: number;
  data: Record<string, unknown>;
  metadata: EventMetadata;
  recordedAt: string;
}

/** A stored event after upcasting: `data` is an instance of the latest event class. */
export interface RecordedEvent<E = unknown> extends Omit<StoredEvent, 'data'> {
  /** Schema version the row was stored with (before upcasting). */
  storedSchemaVersion: number;
  data: E;
}

/** Result of an append: the stream version and global position of the last event written. */
export interface AppendResult {
  streamVersion: number;
  position: number;
  /** false when every event id was already stored (an idempotent retry wrote nothing). */
  written: boolean;
}
