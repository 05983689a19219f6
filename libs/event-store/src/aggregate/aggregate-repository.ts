import { setTimeout as sleep } from 'node:timers/promises';
import type { Queryable } from '../postgres/queryable';
import { ConcurrencyConflictError } from '../errors';
import type { EventStore } from '../postgres/postgres-event-store';
import type { AppendResult, EventMetadata, ExpectedVersion } from '../types';
import type { SnapshotStore } from '../snapshots/snapshot-store';
import type { EventSourcedAggregate } from './event-sourced-aggregate';
import { EventsAppended } from './events-appended';

/** Publishes saved events; the Nest module passes the cqrs EventBus. */
export interface EventPublisherPort {
  publish(event: object): unknown;
}

/**
 * Writes the caller's own rows in the append's transaction, after the append (so the
 * append is the transaction's first write). Throwing rolls the events back too.
 */
export type TransactionHook = (q: Queryable, result: AppendResult) => Promise<void>;

export interface SaveOptions {
  /** Append in a transaction and run this hook in it before COMMIT; without it the append autocommits. */
  within?: TransactionHook;
}

export interface UpdateOptions extends SaveOptions {
  /** The version the client last saw (e.g. from `If-Match`). When set, a mismatch fails at once, never retried. */
  expectedVersion?: number;
  /** Attempts on a concurrency conflict when no `expectedVersion` was given. Default 3. 1 = no retry. */
  attempts?: number;
  metadata?: EventMetadata;
}

/**
 * Loads aggregates by replaying their upcast stream (from their latest snapshot, when their
 * type has a snapshot definition) and saves their uncommitted events with the loaded version as
 * expected version.
 */
export class AggregateRepository {
  constructor(
    private readonly store: EventStore,
    private readonly publisher?: EventPublisherPort,
    private readonly snapshots?: SnapshotStore,
  ) {}

  /**
   * Replays the stream into a new instance, starting from the latest usable snapshot if any;
   * `null` when the stream has no events. A load that replayed `every` events or more schedules
   * a snapshot in the background (see `SnapshotStore`).
   */
  async load<A extends EventSourcedAggregate>(create: () => A, streamId: string): Promise<A | null> {
    const session = this.snapshots ? await this.snapshots.open(create, streamId) : undefined;
    const aggregate = session?.aggregate ?? create();
    for await (const recorded of session?.events ?? this.store.readStream(streamId)) {
      aggregate.loadFromHistory([recorded.data as object]);
      aggregate.version = recorded.streamVersion;
      session?.replayed(recorded);
    }
    if (aggregate.version === 0) return null;
    session?.loaded();
    return aggregate;
  }

  /**
   * Appends the aggregate's uncommitted events, expecting the stream at the version it was
   * loaded at; with `options.within`, in one transaction with the hook's writes.
   */
  async save(aggregate: EventSourcedAggregate, metadata?: EventMetadata, options: SaveOptions = {}): Promise<AppendResult> {
    const events = aggregate.getUncommittedEvents();
    const expectedVersion: ExpectedVersion = aggregate.version === 0 ? 'no_stream' : aggregate.version;
    const toAppend = events.map((e) => this.store.registry.serialize(e, metadata));
    const within = options.within;
    const result = within
      ? await this.store.inTransaction(async (q) => {
          const appended = await this.store.appendWithin(q, aggregate.streamId, toAppend, expectedVersion);
          await within(q, appended);
          return appended;
        })
      : await this.store.appendToStream(aggregate.streamId, toAppend, { expectedVersion });
    aggregate.uncommit();
    aggregate.version = result.streamVersion;
    this.publisher?.publish(new EventsAppended(aggregate.streamId, events, result));
    return result;
  }

  /**
   * Load, change, save; on a concurrency conflict reload and re-run `change`
   * (bounded, with jittered backoff), unless the caller pinned `expectedVersion`. `change` must be
   * safe to run again on fresh state (it holds the domain rules, not I/O).
   * Returns `null` when the stream does not exist.
   */
  async update<A extends EventSourcedAggregate>(
    create: () => A,
    streamId: string,
    change: (aggregate: A) => void,
    options: UpdateOptions = {},
  ): Promise<{ aggregate: A; result: AppendResult } | null> {
    const attempts = options.expectedVersion === undefined ? Math.max(1, options.attempts ?? 3) : 1;
    for (let attempt = 1; ; attempt++) {
      const aggregate = await this.load(create, streamId);
      if (!aggregate) return null;
      if (options.expectedVersion !== undefined && aggregate.version !== options.expectedVersion) {
        throw new ConcurrencyConflictError(streamId, options.expectedVersion, aggregate.version);
      }
      change(aggregate);
      try {
        return { aggregate, result: await this.save(aggregate, options.metadata, { within: options.within }) };
      } catch (error) {
        if (!(error instanceof ConcurrencyConflictError) || attempt >= attempts) throw error;
        // Full jitter, growing per attempt, so contending writers stop colliding in lock-step.
        await sleep(Math.random() * 5 * 2 ** attempt);
      }
    }
  }
}
