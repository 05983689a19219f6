import type { PersonalDataCipher } from '../personal-data/personal-data';
import type { EventSourcedAggregate } from '../aggregate/event-sourced-aggregate';
import type { EventStore } from '../postgres/postgres-event-store';
import type { RecordedEvent, StoredEvent } from '../types';
import { identityCodec, type SnapshotContext, type SnapshotDefinition } from './snapshot-definition';
import { type PreparingPool, readFromSnapshot, type SnapshotHeadStatement } from './snapshot-sql';

/** Events read with the snapshot in its round trip; a longer tail is read on in batches like `readStream`. */
export const SNAPSHOT_HEAD_EVENTS = 500;

/**
 * The repository's view of one load: the aggregate (restored from a snapshot, or fresh), the
 * events to replay into it, `replayed` for each, then `loaded()`, which schedules a snapshot
 * when one is due.
 */
export interface SnapshotLoad<A extends EventSourcedAggregate> {
  aggregate: A;
  events: AsyncIterable<RecordedEvent<unknown>>;
  replayed(event: RecordedEvent<unknown>): void;
  loaded(): void;
}

/** What a load needs from its store: where to read, and where to report and schedule. */
export interface SnapshotLoadPorts {
  store: EventStore;
  pool: PreparingPool;
  /** The store's snapshot-head statement (`snapshotHeadStatement`). */
  headStatement: SnapshotHeadStatement;
  readFault(error: unknown): void;
  schedule(aggregate: EventSourcedAggregate, eventId: string): void;
  /** The store's cipher for personal fields, handed to the codec. */
  personalData?: PersonalDataCipher;
}

/** A load without snapshots: a fresh aggregate and the whole stream. */
export function replayLoad<A extends EventSourcedAggregate>(store: EventStore, aggregate: A, streamId: string): SnapshotLoad<A> {
  return { aggregate, events: store.readStream(streamId), replayed: () => undefined, loaded: () => undefined };
}

/**
 * Starts a load of an aggregate that has a snapshot definition: one statement reads the latest
 * usable snapshot and the events after it. A snapshot that fails to decode or restore (or a
 * failed read) is reported and the stream is replayed in full: never a wrong state.
 */
export async function openSnapshotLoad<A extends EventSourcedAggregate>(
  ports: SnapshotLoadPorts,
  definition: SnapshotDefinition,
  create: () => A,
  streamId: string,
): Promise<SnapshotLoad<A>> {
  let restored: { aggregate: A; head: StoredEvent[] } | undefined;
  try {
    const key = { streamId, name: definition.name, version: definition.version };
    const { snapshot, events } = await readFromSnapshot(ports.pool, ports.headStatement, key, SNAPSHOT_HEAD_EVENTS);
    const aggregate = create();
    if (snapshot) {
      const context: SnapshotContext = {
        streamId,
        name: definition.name,
        version: definition.version,
        streamVersion: snapshot.stream_version,
        personalData: ports.personalData,
      };
      definition.restore(aggregate, await (definition.codec ?? identityCodec).decode(snapshot.state, context));
      aggregate.version = snapshot.stream_version;
    }
    restored = { aggregate, head: events };
  } catch (error) {
    ports.readFault(error);
  }
  if (!restored) return replayLoad(ports.store, create(), streamId);
  const { aggregate, head } = restored;
  const from = aggregate.version;
  const fence = new Set(definition.notAfter ?? []);
  let lastEventId: string | undefined;
  let fenced = false;
  return {
    aggregate,
    events: headThenRest(ports.store, streamId, head),
    replayed: (event) => {
      lastEventId = event.eventId;
      if (fence.has(event.type)) fenced = true;
    },
    loaded: () => {
      if (!fenced && lastEventId && aggregate.version - from >= definition.every) ports.schedule(aggregate, lastEventId);
    },
  };
}

async function* headThenRest(store: EventStore, streamId: string, head: StoredEvent[]): AsyncGenerator<RecordedEvent<unknown>> {
  // Personal fields are opened first, as every read of the store does (crypto-shredding).
  for (const row of await store.reveal(head)) yield store.upcastRevealed(row);
  if (head.length < SNAPSHOT_HEAD_EVENTS) return;
  yield* store.readStream(streamId, { fromVersion: head[head.length - 1].streamVersion + 1 });
}
