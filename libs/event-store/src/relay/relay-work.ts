import { Logger } from '@nestjs/common';
import type { EventStore } from '../postgres/postgres-event-store';
import type { Queryable } from '../postgres/queryable';
import type { ProjectionStateStore } from '../projections/projection-state-store';
import { inTransaction } from '../projections/runner/batch-applier';
import { BatchFeed, settledBatchReader, untilPoison } from '../projections/runner/batch-feed';
import type { ProjectionWork, StepOutcome } from '../projections/runner/projection-runner';
import type { RecordedEvent } from '../types';
import type { PublishedMark } from './integration-publisher';
import { relayRowName, type RelayOptions } from './relay-options';

/** The relay's checkpoint row has one version: it has no rules to rebuild. */
export const RELAY_ROW_VERSION = 1;

/**
 * The work of a relay while this instance holds its lock, in the projection runner (same lock,
 * stand-by, takeover and backoff): each step reads the next settled batch of the published types
 * after the checkpoint, publishes in position order what the broker does not hold yet, and only
 * when every publish is acknowledged moves the checkpoint (compare-and-set, so an operator's
 * pause or replay in between wins). Nothing is held open while publishing: no transaction, so
 * a slow or absent broker never holds back the log's readers.
 */
export class RelayWork implements ProjectionWork {
  private readonly feed: BatchFeed;
  private readonly row: string;
  /** What the broker holds, as last learnt from it; unknown at the start of a tenure and after any failed publish. */
  private published?: PublishedMark;
  private readonly logger: Logger;

  constructor(
    private readonly o: Required<Pick<RelayOptions, 'batchSize'>> & RelayOptions,
    private readonly store: EventStore,
    private readonly states: ProjectionStateStore,
  ) {
    this.row = relayRowName(o.name);
    this.feed = new BatchFeed(settledBatchReader(store, o.types));
    this.logger = new Logger(`Relay:${o.name}`);
  }

  /** What this instance last learnt the broker holds (undefined until it asked). */
  get lastPublished(): PublishedMark | undefined {
    return this.published;
  }

  async onAcquired(sql: Queryable): Promise<void> {
    await this.states.insertIfMissing(sql, this.row, RELAY_ROW_VERSION);
  }

  async standingBy(): Promise<void> {}

  onReleased(): void {
    this.forget();
  }

  /** Forgets the prefetched batch and what the broker holds: the next step asks again. */
  forget(): void {
    this.feed.reset();
    this.published = undefined;
  }

  async step(sql: Queryable): Promise<StepOutcome> {
    const row = await this.states.read(sql, this.row);
    if (!row) throw new Error(`the checkpoint row of relay ${this.o.name} is missing`);
    if (row.state === 'stopped') return 'idle'; // paused, or stopped on an unreadable event
    const after = row.position;
    if (after >= (await this.store.headPosition(sql))) return 'idle';
    const batch = await this.feed.take(after + 1, this.o.batchSize);
    const { events, poison } = untilPoison(batch, 'live');
    const to = poison ? poison.position - 1 : batch.to;
    if (to <= after && !poison) return 'idle';
    let fresh: RecordedEvent[];
    try {
      const published = (this.published ??= await this.o.publisher.lastPublished());
      fresh = events.filter((e) => e.position > published.position);
      await this.publishInOrder(fresh);
    } catch (error) {
      this.forget();
      this.o.onPublishError?.(error);
      throw error;
    }
    const moved = await inTransaction(sql, () => this.states.advance(sql, this.row, 'live', RELAY_ROW_VERSION, after, to, poison));
    if (!moved) {
      this.feed.reset(); // an operator paused or replayed meanwhile: start over from the row
      return 'worked';
    }
    if (fresh.length) this.o.onPublished?.(fresh);
    if (poison) {
      this.feed.reset();
      this.logger.error(
        `stopped at position ${poison.position} (${poison.type} v${poison.schemaVersion}): ${poison.code} ${poison.reason}`,
      );
    }
    return 'worked';
  }

  /**
   * Publishes in position order with at most `maxInFlight` in flight, each naming the one before
   * it; stops sending at the first failure and throws it once the ones in flight are settled.
   */
  private async publishInOrder(events: RecordedEvent[]): Promise<void> {
    const max = this.o.publisher.maxInFlight;
    const pending: Promise<void>[] = [];
    let failure: { error: unknown } | undefined;
    let previous = this.published!;
    for (const event of events) {
      if (pending.length >= max) await pending.shift();
      if (failure) break;
      const before = previous;
      pending.push(this.publishOne(event, before).catch((error: unknown) => void (failure ??= { error })));
      previous = { position: event.position, eventId: event.eventId };
    }
    await Promise.all(pending);
    if (failure) throw failure.error;
    this.published = previous;
  }

  private publishOne(event: RecordedEvent, previous: PublishedMark): Promise<void> {
    const publish = () => this.o.publisher.publish(event, previous);
    return this.o.aroundPublish ? this.o.aroundPublish(event, publish) : publish();
  }
}
