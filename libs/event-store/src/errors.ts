import type { StoredEvent } from './types';

/**
 * Errors raised by the event store. Each has a stable string `code` that
 * callers (e.g. an HTTP exception filter) map to their own transport; the
 * library itself knows nothing of HTTP.
 */
export abstract class EventStoreError extends Error {
  abstract readonly code: string;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Where a stored event sits; carried by every read-side error so operators can find it. */
export type EventLocation = Pick<StoredEvent, 'position' | 'streamId' | 'streamVersion' | 'eventId' | 'type' | 'schemaVersion'>;

/** The stream's current version did not match the caller's `expectedVersion`. */
export class ConcurrencyConflictError extends EventStoreError {
  readonly code = 'EVENT_STORE.CONCURRENCY_CONFLICT';
  constructor(
    readonly streamId: string,
    readonly expectedVersion: string | number,
    readonly actualVersion: number,
    options?: { cause?: unknown },
  ) {
    super(`Stream "${streamId}" expected version ${expectedVersion} but is at ${actualVersion}`, options);
  }
}

/** Some, but not all, of the event ids in an append already exist (or exist on another stream). */
export class IdempotencyConflictError extends EventStoreError {
  readonly code = 'EVENT_STORE.IDEMPOTENCY_CONFLICT';
  constructor(
    readonly streamId: string,
    readonly eventIds: string[],
  ) {
    super(`Append to "${streamId}" reuses event ids that were written differently: ${eventIds.join(', ')}`);
  }
}

/** An append request was malformed (empty, bad stream id, unregistered event class...). */
export class InvalidAppendError extends EventStoreError {
  readonly code = 'EVENT_STORE.INVALID_APPEND';
}

/**
 * A batch append asked for more than `MAX_STREAMS_PER_BATCH` streams or
 * `MAX_EVENTS_PER_BATCH` events. Nothing was written; split it into several
 * batches (each its own transaction) or use `importLines` for bulk history.
 */
export class BatchTooLargeError extends EventStoreError {
  readonly code = 'EVENT_STORE.BATCH_TOO_LARGE';
  constructor(
    readonly limit: { streams: number; events: number },
    readonly asked: { streams: number; events?: number },
  ) {
    super(
      `A batch takes at most ${limit.streams} streams and ${limit.events} events; this one has ${asked.streams} streams` +
        (asked.events === undefined ? '' : ` and ${asked.events} events`),
    );
  }
}

/** Why a statement timed out, as `EventStoreTimeoutError` says it. */
const TIMEOUT_MESSAGES = {
  statement: 'The database cancelled a statement that ran past its timeout',
  'idle-in-transaction': 'The database ended a transaction that stayed idle past its timeout',
  'no-answer': 'The database did not answer within the client-side bound; the connection was dropped and the outcome is unknown',
};

/**
 * A statement ran longer than `statementTimeoutMs`, or a transaction sat idle
 * longer than `idleInTransactionTimeoutMs`: the server cancelled it and nothing
 * of it was written. Or (`no-answer`) the database did not answer within the
 * client-side bound (a frozen or partitioned link): the connection was dropped
 * and the outcome is unknown, an autocommitted append may have committed.
 * Either way safe to retry (an append with the same event ids is idempotent).
 */
export class EventStoreTimeoutError extends EventStoreError {
  readonly code = 'EVENT_STORE.TIMEOUT';
  constructor(
    readonly kind: 'statement' | 'idle-in-transaction' | 'no-answer',
    options?: { cause?: unknown },
  ) {
    super(TIMEOUT_MESSAGES[kind], options);
  }
}

/**
 * `appendWithin` was given a Queryable that `inTransaction` did not open, or
 * whose transaction has already ended. Only the store's own transactions can
 * guarantee that a connection left in doubt by a failed append is closed, not
 * pooled.
 */
export class ForeignTransactionError extends EventStoreError {
  readonly code = 'EVENT_STORE.FOREIGN_TRANSACTION';
  constructor() {
    super('appendWithin needs the Queryable that EventStore.inTransaction passes, while its transaction is open');
  }
}

/** An option of `createEventStore` / `EventStoreModule.forRoot` is out of range; the message names it. */
export class EventStoreOptionsError extends EventStoreError {
  readonly code = 'EVENT_STORE.INVALID_OPTIONS';
}

/** The registry was configured inconsistently; raised at start-up, never at replay. */
export class EventRegistryError extends EventStoreError {
  readonly code = 'EVENT_STORE.REGISTRY_INVALID';
}

/** Base for every failure to turn a stored event into its latest shape. */
export abstract class EventReadError extends EventStoreError {
  constructor(
    readonly location: EventLocation,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(
      `Cannot read event at position ${location.position} (stream "${location.streamId}" v${location.streamVersion}, ` +
        `${location.type} schema v${location.schemaVersion}): ${reason}`,
      options,
    );
  }
}

/** The stored type name is not registered. */
export class UnknownEventTypeError extends EventReadError {
  readonly code = 'EVENT_STORE.UNKNOWN_EVENT_TYPE';
}

/** The stored schema version has no upcaster path to the latest (e.g. a version from the future). */
export class MissingUpcasterError extends EventReadError {
  readonly code = 'EVENT_STORE.MISSING_UPCASTER';
}

/** An upcaster threw. */
export class UpcastFailedError extends EventReadError {
  readonly code = 'EVENT_STORE.UPCAST_FAILED';
}

/** After upcasting, the data does not satisfy the latest schema. */
export class EventValidationError extends EventReadError {
  readonly code = 'EVENT_STORE.VALIDATION_FAILED';
  constructor(
    location: EventLocation,
    readonly violations: string[],
  ) {
    super(location, `validation failed: ${violations.join('; ')}`);
  }
}

/** A line of an import file could not be parsed or is not a valid stored event. */
export class ImportLineError extends EventStoreError {
  readonly code = 'EVENT_STORE.IMPORT_INVALID';
  constructor(
    readonly line: number,
    reason: string,
  ) {
    super(`Import line ${line}: ${reason}`);
  }
}
