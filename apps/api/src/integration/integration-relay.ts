import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown, Optional } from '@nestjs/common';
import {
  EVENT_STORE_HANDLE,
  EventStoreError,
  type AroundPublish,
  type EventStoreHandle,
  type OutboxRelay,
  type RecordedEvent,
} from '@app/event-store';
import { AppConfig } from '../config/app-config';
import { INTEGRATION_CONTRACTS } from './integration-contracts';
import { JetStreamPublisher } from './jetstream-publisher';
import { NatsLink } from './nats-link';

/** A relay command while the relay is off (NATS_URL unset). */
export class RelayOffError extends EventStoreError {
  readonly code = 'RELAY.OFF';
}

/**
 * Optional provider of an `AroundPublish` hook (e.g. a tracer wrapping each publish in a span whose
 * parent is the event's stored `metadata.traceparent`). Provide it from a global module.
 */
export const RELAY_AROUND_PUBLISH = Symbol('RELAY_AROUND_PUBLISH');

/** Name of the app's relay: its checkpoint row is `relay.nats` in the projections table. */
export const RELAY_NAME = 'nats';

/**
 * The app's outbox relay to NATS JetStream, on when NATS_URL is set (one active instance across
 * replicas, the others stand by). Start-up never waits for NATS: the relay connects in its own
 * loop and backs off while NATS is away, so appends never depend on it.
 */
@Injectable()
export class IntegrationRelay implements OnApplicationBootstrap, OnApplicationShutdown {
  /** Undefined while the relay is off. */
  readonly relay?: OutboxRelay;
  readonly link?: NatsLink;
  private readonly published = new Set<(events: RecordedEvent[]) => void>();
  private readonly errors = new Set<(error: unknown) => void>();
  private readonly logger = new Logger('Relay');

  constructor(
    @Inject(EVENT_STORE_HANDLE) handle: EventStoreHandle,
    @Inject(AppConfig) private readonly config: AppConfig,
    @Optional() @Inject(RELAY_AROUND_PUBLISH) aroundPublish?: AroundPublish,
  ) {
    if (!config.NATS_URL) return;
    this.link = new NatsLink(config.NATS_URL, `api:${config.NATS_NAMESPACE}`);
    const publisher = new JetStreamPublisher(this.link, INTEGRATION_CONTRACTS, {
      namespace: config.NATS_NAMESPACE,
      stream: config.NATS_STREAM,
      retention: config.NATS_STREAM_RETENTION,
      maxAgeMs: config.NATS_STREAM_MAX_AGE_MS,
      duplicateWindowMs: config.NATS_DUPLICATE_WINDOW_MS,
      publishTimeoutMs: config.NATS_PUBLISH_TIMEOUT_MS,
    });
    this.relay = handle.createRelay({
      name: RELAY_NAME,
      types: publisher.types,
      publisher,
      aroundPublish,
      onPublished: (events) => this.published.forEach((listener) => listener(events)),
      onPublishError: (error) => this.errors.forEach((listener) => listener(error)),
    });
  }

  /** The relay, or `RelayOffError` (409) when NATS_URL is unset. */
  get running(): OutboxRelay {
    if (!this.relay) throw new RelayOffError('The relay is off: NATS_URL is not set');
    return this.relay;
  }

  /** Called after each checkpoint with the events it published (this instance only). */
  onPublished(listener: (events: RecordedEvent[]) => void): void {
    this.published.add(listener);
  }

  /** Called on each failed publish batch (this instance only). */
  onPublishError(listener: (error: unknown) => void): void {
    this.errors.add(listener);
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.relay) {
      this.logger.log('Relay off: NATS_URL is not set, integration events are not published');
      return;
    }
    const { NATS_STREAM, NATS_NAMESPACE } = this.config;
    this.logger.log(`Relay on: publishing to JetStream stream ${NATS_STREAM} on ${NATS_NAMESPACE}.events.>`);
    this.link!.keepConnected();
    await this.relay.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.relay?.stop();
    await this.link?.close();
  }
}
