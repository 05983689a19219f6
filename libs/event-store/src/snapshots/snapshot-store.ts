import type { PersonalDataCipher } from '../personal-data/personal-data';
import { EventEmitter } from 'node:events';
import type { DataSource } from 'typeorm';
import type { EventSourcedAggregate } from '../aggregate/event-sourced-aggregate';
import type { EventStore } from '../postgres/postgres-event-store';
import type { Queryable } from '../postgres/queryable';
import { autocommitQueryable, driverPool } from '../postgres/queryable-adapters';
import { identityCodec, type SnapshotContext, type SnapshotDefinition } from './snapshot-definition';
import { openSnapshotLoad, replayLoad, type SnapshotLoad } from './snapshot-load';
import { deleteStreamSnapshots, snapshotHeadStatement, type SnapshotHeadStatement, upsertSnapshot } from './snapshot-sql';

/** Snapshot writes in flight at once per store; past it a due snapshot is skipped (the next load takes it). */
export const MAX_SNAPSHOT_WRITES_IN_FLIGHT = 4;

/** A snapshot that could not be read (the load replayed in full) or written (skipped). Never fails a load or an append. */
export interface SnapshotFault {
  operation: 'read' | 'write';
  streamId: string;
  name: string;
  error: unknown;
}

type AnyDefinition = SnapshotDefinition;

/**
 * Snapshots of aggregates, in the `snapshots` table beside the log. Reads are part of a load;
 * writes happen after a load that replayed `every` events or more, in the background, in a
 * short transaction of their own: never in an append's transaction, never awaited by a command.
 */
export class SnapshotStore {
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly faults = new EventEmitter();
  private closed = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly store: EventStore,
    private readonly streamLockClass: number,
    /** By aggregate class, checked (`snapshotDefinitionsByClass`). */
    private readonly definitions: ReadonlyMap<unknown, AnyDefinition>,
  ) {
    this.headStatement = snapshotHeadStatement(store.schema);
  }

  /** Built once: every load runs it (and every pooled connection plans it once). */
  private readonly headStatement: SnapshotHeadStatement;

  /** The store's cipher for personal fields (crypto-shredding on), handed to the codecs. */
  private get personalData(): PersonalDataCipher | undefined {
    return this.store.personalData;
  }

  /**
   * Starts a load: restores the latest usable snapshot of the aggregate's shape into a fresh
   * instance and gives the events after it, or a fresh instance and the whole stream (no
   * definition, `every` 0, no snapshot, or one that fails to decode or restore: reported as a
   * `read` fault). With a definition, the snapshot and the first events come in one statement.
   */
  async open<A extends EventSourcedAggregate>(create: () => A, streamId: string): Promise<SnapshotLoad<A>> {
    const fresh = create();
    const definition = this.definitions.get(fresh.constructor);
    if (!definition || definition.every === 0) return replayLoad(this.store, fresh, streamId);
    return openSnapshotLoad(
      {
        store: this.store,
        pool: driverPool(this.dataSource),
        headStatement: this.headStatement,
        readFault: (error) => this.report('read', streamId, definition, error),
        schedule: (aggregate, eventId) => this.schedule(definition, aggregate, streamId, eventId),
        personalData: this.personalData,
      },
      definition,
      create,
      streamId,
    );
  }

  /**
   * Deletes every snapshot of a stream (all shapes). Pass the erasure's transaction as `q`, and
   * list the erasure's event type in the definition's `notAfter`: then no snapshot write, even
   * one in flight, can store a snapshot after it.
   */
  deleteSnapshots(streamId: string, q?: Queryable): Promise<number> {
    return deleteStreamSnapshots(q ?? autocommitQueryable(this.dataSource), this.store.schema, streamId);
  }

  /** Called on every snapshot that could not be read or written, on this instance: for logs and metrics. */
  onFault(listener: (fault: SnapshotFault) => void): () => void {
    this.faults.on('fault', listener);
    return () => this.faults.off('fault', listener);
  }

  /** Resolves once the snapshot writes in flight now have finished (stored, skipped or failed). */
  async flush(): Promise<void> {
    await Promise.all([...this.inFlight.values()]);
  }

  /** Stops taking snapshots and waits for the writes in flight; the handle's `close()` calls it. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }

  private schedule(definition: AnyDefinition, aggregate: EventSourcedAggregate, streamId: string, eventId: string): void {
    const key = `${definition.name}\u0000${streamId}`;
    if (this.closed || this.inFlight.has(key) || this.inFlight.size >= MAX_SNAPSHOT_WRITES_IN_FLIGHT) return;
    const streamVersion = aggregate.version;
    let state: unknown;
    try {
      // Taken now: the caller goes on to change the aggregate (a command) as soon as the load returns.
      state = structuredClone(definition.take(aggregate));
    } catch (error) {
      this.report('write', streamId, definition, error);
      return;
    }
    const write = this.write(definition, streamId, streamVersion, eventId, state)
      .catch((error: unknown) => this.report('write', streamId, definition, error))
      .finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, write);
  }

  private async write(definition: AnyDefinition, streamId: string, streamVersion: number, eventId: string, state: unknown): Promise<void> {
    const codec = definition.codec ?? identityCodec;
    const stored = await codec.encode(state, { ...contextOf(definition, streamId, streamVersion), personalData: this.personalData });
    const { name, version } = definition;
    const notAfter = definition.notAfter ?? [];
    await this.store.inTransaction((q) =>
      upsertSnapshot(q, this.store.schema, this.streamLockClass, {
        streamId,
        name,
        version,
        streamVersion,
        eventId,
        state: stored,
        notAfter,
      }),
    );
  }

  private report(operation: SnapshotFault['operation'], streamId: string, definition: AnyDefinition, error: unknown): void {
    try {
      this.faults.emit('fault', { operation, streamId, name: definition.name, error } satisfies SnapshotFault);
    } catch {
      // A listener's own failure must not fail a load or leave a write's promise rejected.
    }
  }
}

function contextOf(definition: AnyDefinition, streamId: string, streamVersion: number): SnapshotContext {
  return { streamId, name: definition.name, version: definition.version, streamVersion };
}
