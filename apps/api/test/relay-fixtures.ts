import { randomUUID } from 'node:crypto';
import { createEventStore, type EventStoreHandle, type OutboxRelay, type RelayOptions } from '@app/event-store';
import { appEventStore } from '../src/app-event-store';
import { INTEGRATION_CONTRACTS } from '../src/integration/integration-contracts';
import { RELAY_NAME } from '../src/integration/integration-relay';
import { JetStreamPublisher } from '../src/integration/jetstream-publisher';
import { NatsLink } from '../src/integration/nats-link';
import type { StreamMessage } from './test-nats';
import { testPublisherOptions } from './test-nats';

/** A store of the app's events (no projections) and a relay of them to a test stream. */
export interface RelayHarness {
  handle: EventStoreHandle;
  relay: OutboxRelay;
  link: NatsLink;
  publisher: JetStreamPublisher;
  close(): Promise<void>;
}

export async function openRelay(
  o: { dbUrl: string; natsUrl: string; schema: string; stream: string; namespace: string; lockTimeoutMs?: number },
  extra: Partial<RelayOptions> = {},
): Promise<RelayHarness> {
  const handle = await createEventStore({
    url: o.dbUrl,
    schema: o.schema,
    ...appEventStore,
    projections: [],
    poolSize: 3,
    projectionPollMs: 50,
    projectionLockTimeoutMs: o.lockTimeoutMs,
  });
  const link = new NatsLink(o.natsUrl, 'relay-test');
  const publisher = new JetStreamPublisher(link, INTEGRATION_CONTRACTS, testPublisherOptions(o));
  const relay = handle.createRelay({ name: RELAY_NAME, types: publisher.types, publisher, batchSize: 100, ...extra });
  return { handle, relay, link, publisher, close: async () => (await handle.close(), await link.close()) };
}

/**
 * Appends `users` users' histories, `rounds` appends each (register, then awards and renames), in
 * interleaved order so the log mixes streams; returns the number of events written.
 */
export async function appendUserHistories(h: EventStoreHandle, users: number, rounds: number, tag = 'x'): Promise<number> {
  const ids = Array.from({ length: users }, () => randomUUID());
  let written = 0;
  for (let round = 0; round < rounds; round++) {
    await Promise.all(
      ids.map(async (id, i) => {
        const event =
          round === 0
            ? { type: 'UserRegistered', schemaVersion: 2, data: { firstName: 'Ada', lastName: `L${i}`, email: `u${i}-${tag}@example.com` } }
            : round % 3 === 0
              ? { type: 'UserRenamed', schemaVersion: 1, data: { firstName: 'Ada', lastName: `R${round}` } }
              : { type: 'PointsAwarded', schemaVersion: 3, data: { points: round, reason: 'quiz', awardedAt: new Date().toISOString() } };
        await h.store.appendToStream(`user-${id}`, [{ ...event, metadata: { correlationId: `c-${tag}`, causationId: `http:r-${i}` } }], {
          expectedVersion: round,
        });
        written++;
      }),
    );
  }
  return written;
}

/** Every event id once, each stream's versions in increasing order in stream order, and global positions increasing. */
export function deliveryReport(messages: StreamMessage[]): { ids: number; duplicates: number; outOfOrder: number; behindPosition: number } {
  const seen = new Set<string>();
  let duplicates = 0;
  let outOfOrder = 0;
  let behindPosition = 0;
  let lastPosition = 0;
  const lastVersion = new Map<string, number>();
  for (const m of messages) {
    const id = m.headers['Event-Id'];
    if (seen.has(id)) duplicates++;
    seen.add(id);
    const stream = m.headers['Event-Stream-Id'];
    const version = Number(m.headers['Event-Stream-Version']);
    if ((lastVersion.get(stream) ?? 0) >= version) outOfOrder++;
    lastVersion.set(stream, version);
    const position = Number(m.headers['Event-Position']);
    if (position <= lastPosition) behindPosition++;
    lastPosition = position;
  }
  return { ids: seen.size, duplicates, outOfOrder, behindPosition };
}
