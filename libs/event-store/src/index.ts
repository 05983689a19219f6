/**
 * Public API of the event store library: what an application needs to declare, open and use a
 * store, and the types of its documented extension points (projections, hooks, codecs,
 * publishers). Anything not exported here is private. Operator tooling (verify, export, import,
 * key transfer) is `@app/event-store/tools`; test helpers are `@app/event-store/testing`; what
 * application migrations need is `@app/event-store/migrations`.
 */
export { EventStoreModule, EVENT_STORE_HANDLE } from './event-store.module';
export type { EventStoreOptions } from './event-store.options';
export { createEventStore } from './create-event-store';
export type { EventStoreHandle, PoolStats } from './create-event-store';
export type { Database, Queryable } from './postgres/queryable';

export { EventStore } from './postgres/postgres-event-store';
export type { ReadAllOptions, ReadStreamOptions } from './postgres/read-options';
export type { EventToWrite } from './postgres/append';
export { MAX_EVENTS_PER_APPEND, MAX_STREAM_ID_LENGTH } from './postgres/append';
export { MAX_EVENTS_PER_BATCH, MAX_STREAMS_PER_BATCH } from './postgres/append-batch';
export type { BatchAppendResult, StreamAppend } from './postgres/append-batch';
export { DEFAULT_IDLE_IN_TRANSACTION_TIMEOUT_MS, DEFAULT_STATEMENT_TIMEOUT_MS } from './postgres/pool-timeouts';
export { DEFAULT_SHUTDOWN_TIMEOUT_MS } from './postgres/bounded-close';

export { EventRegistry } from './registry/event-registry';
export type { EventRegistryOptions } from './registry/event-registry';
export type { DecodingMode } from './registry/shape-codec';
export { defineEvent } from './registry/event-definition';
export type { ClassOf, EventDefinition, HistoricVersion, UpcastContext, Upcaster } from './registry/event-definition';

export { PersonalData } from './personal-data/personal-data';
export type { PersonalDataCipher } from './personal-data/personal-data';
export { ERASED_MARKERS } from './personal-data/personal-fields';
export type { PersonalDataDeclaration, PersonalFieldKind, PersonalFields } from './personal-data/personal-fields';
export { PersonalDataErasedError, PersonalDataUnreadableError, SealedFieldError } from './personal-data/personal-data-errors';

export { EventSourcedAggregate } from './aggregate/event-sourced-aggregate';
export { AggregateRepository } from './aggregate/aggregate-repository';
export type { SaveOptions, TransactionHook, UpdateOptions } from './aggregate/aggregate-repository';
export { EventsAppended } from './aggregate/events-appended';

export { defineSnapshot, identityCodec, personalSnapshotCodec } from './snapshots/snapshot-definition';
export type { AggregateClass, SnapshotCodec, SnapshotContext, SnapshotDefinition } from './snapshots/snapshot-definition';
export { SnapshotStore } from './snapshots/snapshot-store';
export type { SnapshotFault } from './snapshots/snapshot-store';

export { ProjectionsService, ProjectionStateError, UnknownProjectionError } from './projections/projections.service';
export type { Projection, ProjectionCommit, ProjectionFault, TableNames } from './projections/projection';
export type { RetryReport } from './projections/runner/transient';
export type {
  AbortedRebuild,
  ProjectionError,
  ProjectionPhase,
  ProjectionStatus,
  RebuildProgress,
  RebuildState,
  RebuildStep,
  SkippedEvent,
} from './projections/projection-state';

export { OutboxRelay } from './relay/outbox-relay';
export type { RelayStatus } from './relay/outbox-relay';
export type { RelayOptions } from './relay/relay-options';
export { NOTHING_PUBLISHED } from './relay/integration-publisher';
export type { AroundPublish, IntegrationPublisher, PublishedMark } from './relay/integration-publisher';

export { eventTraceContext } from './tracing/event-trace';
export type { TraceMetadata } from './tracing/event-trace';
export { eventAttributes } from './tracing/projection-spans';

export {
  BatchTooLargeError,
  ConcurrencyConflictError,
  EventReadError,
  EventRegistryError,
  EventStoreError,
  EventStoreOptionsError,
  EventStoreTimeoutError,
  EventValidationError,
  ForeignTransactionError,
  IdempotencyConflictError,
  InvalidAppendError,
  MissingUpcasterError,
  UnknownEventTypeError,
  UpcastFailedError,
} from './errors';
export type { EventLocation } from './errors';
export type * from './types';
