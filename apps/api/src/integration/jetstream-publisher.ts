import { Logger } from '@nestjs/common';
import { jetstream, jetstreamManager, type RetentionPolicy, type JetStreamClient, type StreamConfig } from '@nats-io/jetstream';
import { headers as natsHeaders, type NatsConnection } from '@nats-io/nats-core';
import { NOTHING_PUBLISHED, type IntegrationPublisher, type PublishedMark, type RecordedEvent } from '@app/event-store';
import type { IntegrationContract } from './integration-contracts';
import { IntegrationHeader, integrationHeaders } from './integration-headers';
import type { StreamRetention } from './stream-retention';
import type { NatsLink } from './nats-link';

export interface JetStreamPublisherOptions {
  /** First token of every subject: `<namespace>.events.<stream type>.<event type>`. */
  namespace: string;
  /** The JetStream stream, created at start when missing. */
  stream: string;
  retention: StreamRetention;
  /** Oldest message the stream keeps, in ms; 0 = no age limit. */
  maxAgeMs: number;
  /** How long JetStream remembers a `Nats-Msg-Id` to drop a re-send, in ms. */
  duplicateWindowMs: number;
  /** How long a publish waits for the stream's ack before it counts as failed (outcome unknown), in ms. */
  publishTimeoutMs: number;
}

const ms = (value: number) => value * 1_000_000; // JetStream durations are nanoseconds

/** The subject of one contract's messages. */
export const subjectOf = (namespace: string, c: IntegrationContract) => `${namespace}.events.${c.streamType}.${c.type}`;

/**
 * The relay's publisher to NATS JetStream: one message per event on its contract's subject, the
 * payload from the contract's mapper, `Nats-Msg-Id` = event id, the headers of
 * `integrationHeaders`, and `Nats-Expected-Last-Msg-Id` = the event before it, so publishes can be
 * pipelined and a failed one is never overtaken (the stream refuses the next). Resolves on the
 * stream's ack. The stream is created when missing, with settings NATS 2.9 knows.
 */
export class JetStreamPublisher implements IntegrationPublisher {
  /** Publishes in flight: safe because every one names the message it must follow. */
  readonly maxInFlight = 256;
  private readonly contracts: Map<string, IntegrationContract>;
  private ready?: { client: JetStreamClient; on: NatsConnection };
  private readonly logger = new Logger('Relay:nats');

  constructor(
    private readonly link: NatsLink,
    contracts: readonly IntegrationContract[],
    private readonly o: JetStreamPublisherOptions,
  ) {
    this.contracts = new Map(contracts.map((c) => [c.type, c]));
  }

  /** Stored event types with a contract: the relay publishes these. */
  get types(): string[] {
    return [...this.contracts.keys()];
  }

  /** The subjects the stream is created with. */
  get subjects(): string[] {
    return [`${this.o.namespace}.events.>`];
  }

  async lastPublished(): Promise<PublishedMark> {
    await this.client();
    const jsm = await jetstreamManager(await this.link.get());
    const { state } = await jsm.streams.info(this.o.stream);
    if (state.messages === 0) return NOTHING_PUBLISHED;
    const last = await jsm.streams.getMessage(this.o.stream, { seq: state.last_seq });
    // Consumed already (interest or work-queue retention): only the checkpoint and the duplicate window guard re-sends.
    if (!last) return NOTHING_PUBLISHED;
    const position = Number(last.header?.get(IntegrationHeader.Position));
    const eventId = last.header?.get('Nats-Msg-Id');
    if (!Number.isSafeInteger(position) || !eventId) throw new Error(`the last message of stream ${this.o.stream} is not a relay's`);
    return { position, eventId };
  }

  async publish(event: RecordedEvent, previous: PublishedMark): Promise<void> {
    const contract = this.contracts.get(event.type);
    if (!contract) throw new Error(`no integration contract for ${event.type}`);
    const js = await this.client();
    const h = natsHeaders();
    for (const [key, value] of Object.entries(integrationHeaders(event, contract))) h.set(key, value);
    const payload = JSON.stringify(contract.toPayload(event));
    await js.publish(subjectOf(this.o.namespace, contract), payload, {
      msgID: event.eventId,
      headers: h,
      timeout: this.o.publishTimeoutMs,
      expect: { streamName: this.o.stream, ...(previous.eventId ? { lastMsgID: previous.eventId } : {}) },
    });
  }

  /** The JetStream client, after making sure the stream exists (once per process, again after a failure). */
  private async client(): Promise<JetStreamClient> {
    const nc = await this.link.get();
    if (this.ready?.on === nc) return this.ready.client;
    const jsm = await jetstreamManager(nc);
    const config: Partial<StreamConfig> & { name: string } = {
      name: this.o.stream,
      subjects: this.subjects,
      retention: this.o.retention satisfies RetentionPolicy,
      max_age: ms(this.o.maxAgeMs),
      duplicate_window: ms(this.o.duplicateWindowMs),
    };
    try {
      await jsm.streams.info(this.o.stream);
    } catch {
      await jsm.streams.add(config);
      this.logger.log(`created JetStream stream ${this.o.stream} (${this.subjects.join(', ')}, ${this.o.retention})`);
    }
    const client = jetstream(nc, { timeout: this.o.publishTimeoutMs });
    this.ready = { client, on: nc };
    return client;
  }
}
