import type { RecordedEvent } from '../types';

/** The last event a broker holds from a relay: its global position and event id (`{ position: 0, eventId: null }` for none). */
export interface PublishedMark {
  position: number;
  eventId: string | null;
}

/** Nothing published yet. */
export const NOTHING_PUBLISHED: PublishedMark = { position: 0, eventId: null };

/**
 * The port an outbox relay publishes through; the broker (NATS JetStream in the sample app) sits
 * behind it, so the library knows none. Delivery is at least once: a re-send after a crash
 * carries the same event id, for the broker's duplicate detection.
 */
export interface IntegrationPublisher {
  /**
   * The last event the broker holds from this relay, read from the broker itself. The relay asks
   * on every start of its tenure and after any failed publish, and skips every event at or below
   * that position, so a re-send older than the broker's duplicate window is never published twice.
   */
  lastPublished(): Promise<PublishedMark>;
  /**
   * Publishes one (upcast) event and resolves once the broker has stored it. `previous` is the
   * event published just before it (or the broker's last, for the first of a run): a broker that
   * can, refuses the event unless its last stored message is `previous`, so a failed publish can
   * never let a later one overtake it (JetStream: `Nats-Expected-Last-Msg-Id`).
   */
  publish(event: RecordedEvent, previous: PublishedMark): Promise<void>;
  /**
   * Publishes the relay keeps in flight at once. 1 unless `publish` enforces `previous`: with
   * several in flight and no such check, a failed one could be overtaken by the next.
   */
  readonly maxInFlight: number;
}

/**
 * Wraps each publish, e.g. in a tracing span whose parent is the trace context stored with the
 * event (`event.metadata.traceparent`). It must call `publish` once and return (or throw) its outcome.
 */
export type AroundPublish = (event: RecordedEvent, publish: () => Promise<void>) => Promise<void>;
