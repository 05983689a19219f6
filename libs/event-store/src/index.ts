/**
 * Public API of the event store library, cut to what an application uses to declare, open and
 * use a store (the sample app's production code is the measure) and to test its own event
 * definitions. Errors are matched by their stable `code` (all extend `EventStoreError`); option
 * and result shapes not named here are reachable through the signatures that use them.
 * Operator tooling (verify, export, import, key transfer) is `@app/event-store/tools`; test
 * helpers are `@app/event-store/testing`; what application migrations need is
 * `@app/event-store/migrations`. Anything else is private.
 */
export { EventStoreModule, EVENT_STORE_HANDLE } from './event-store.module';
export type { EventStoreOptions } from './event-store.options';
export { createEventStore } from './create-event-store';
export type { EventStoreHandle } from './create-event-store';
export type { Database, Queryable } from './postgres/queryable';

export { EventStore } from './postgres/postgres-event-store';
export { MAX_STREAM_ID_LENGTH } from './postgres/append';
export { MAX_EVENTS_PER_BATCH, MAX_STREAMS_PER_BATCH } from './postgres/append-batch';
export { DEFAULT_IDLE_IN_TRANSACTION_TIMEOUT_MS, DEFAULT_STATEMENT_TIMEOUT_MS } from './postgres/pool-timeouts';
export type { AppendResult, EventMetadata, ExpectedVersion, RecordedEvent, StoredEvent } from './types';

export { EventRegistry } from './registry/event-registry';
export { defineEvent } from './registry/event-definition';
export type { Upcaster } from './registry/event-definition';
export { ERASED_MARKERS } from './personal-data/personal-fields';

export { EventSourcedAggregate } from './aggregate/event-sourced-aggregate';
export { AggregateRepository } from './aggregate/aggregate-repository';
export type { TransactionHook, UpdateOptions } from './aggregate/aggregate-repository';

export { defineSnapshot, personalSnapshotCodec } from './snapshots/snapshot-definition';
export type { SnapshotCodec, SnapshotDefinition } from './snapshots/snapshot-definition';
export { SnapshotStore } from './snapshots/snapshot-store';

export { ProjectionsService, ProjectionStateError } from './projections/projections.service';
export type { Projection, ProjectionCommit, TableNames } from './projections/projection';
export type { ProjectionPhase, ProjectionStatus } from './projections/projection-state';

export { OutboxRelay } from './relay/outbox-relay';
export type { RelayOptions } from './relay/relay-options';
export { NOTHING_PUBLISHED } from './relay/integration-publisher';
export type { AroundPublish, IntegrationPublisher, PublishedMark } from './relay/integration-publisher';

export { eventTraceContext } from './tracing/event-trace';
export type { TraceMetadata } from './tracing/event-trace';
export { eventAttributes } from './tracing/projection-spans';

export { BatchTooLargeError, ConcurrencyConflictError, EventReadError, EventStoreError } from './errors';
