import type { RecordedEvent } from '../types';
import type { AroundPublish, IntegrationPublisher } from './integration-publisher';

/** Options of `EventStoreHandle.createRelay`. */
export interface RelayOptions {
  /**
   * Stable name, `[a-z][a-z0-9_]*`: the relay's checkpoint row is `relay.<name>` in the
   * projections table, and its lock is taken under that name, so it never meets a projection's.
   */
  name: string;
  /** Stored event types the relay publishes; the others are passed over (their positions still count as done). */
  types: readonly string[];
  publisher: IntegrationPublisher;
  /** Events read and published per checkpoint (1..10000). Default 500. */
  batchSize?: number;
  /** The tracer's hook: wraps each publish (see `AroundPublish`). */
  aroundPublish?: AroundPublish;
  /** Told after each checkpoint with the events it covered that were published, in order: for a metric. */
  onPublished?: (events: RecordedEvent[]) => void;
  /**
   * Told about each failed exchange with the broker (asking where it stands, or a batch's publishes):
   * the relay then backs off and asks again. For a metric.
   */
  onPublishError?: (error: unknown) => void;
}

export const RELAY_BATCH_LIMITS = { min: 1, max: 10_000, default: 500 } as const;

/** The checkpoint row and lock name of a relay: outside the projection names' alphabet, so the two never meet. */
export const relayRowName = (name: string): string => `relay.${name}`;

/** Validates and fills defaults; the error names the option. */
export function resolveRelayOptions(o: RelayOptions): Required<Pick<RelayOptions, 'batchSize'>> & RelayOptions {
  if (!/^[a-z][a-z0-9_]{0,40}$/.test(o.name)) throw new Error(`Invalid relay name "${o.name}"`);
  if (!o.types.length) throw new Error(`Relay "${o.name}" publishes no event type`);
  const batchSize = o.batchSize ?? RELAY_BATCH_LIMITS.default;
  if (!Number.isInteger(batchSize) || batchSize < RELAY_BATCH_LIMITS.min || batchSize > RELAY_BATCH_LIMITS.max) {
    throw new Error(`relay batchSize must be an integer from ${RELAY_BATCH_LIMITS.min} to ${RELAY_BATCH_LIMITS.max}`);
  }
  const maxInFlight = o.publisher.maxInFlight;
  if (!Number.isInteger(maxInFlight) || maxInFlight < 1) throw new Error('publisher.maxInFlight must be a positive integer');
  return { ...o, batchSize };
}
