import { randomBytes } from 'node:crypto';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import type { JetStreamPublisherOptions } from '../src/integration/jetstream-publisher';

/** The NATS with JetStream of this run (resolved by test/setup/global-setup.ts). */
export const TEST_NATS_URL = process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222';

/** A stream name and subject namespace unique to this run and file, so runs never collide. */
export function uniqueNatsNames(prefix: string): { stream: string; namespace: string } {
  const id = `${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  return { stream: `${prefix}_${id}`.toUpperCase(), namespace: `${prefix}_${id}` };
}

/** Publisher options for a test stream: short timeouts, the defaults otherwise. */
export function testPublisherOptions(names: { stream: string; namespace: string }): JetStreamPublisherOptions {
  return { ...names, retention: 'limits', maxAgeMs: 0, duplicateWindowMs: 120_000, publishTimeoutMs: 2000 };
}

/** One stored message as a test reads it. */
export interface StreamMessage {
  seq: number;
  subject: string;
  headers: Record<string, string>;
  payload: Record<string, unknown>;
}

/** A connection for a test's own reads of a stream. */
export class StreamReader {
  private constructor(
    private readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager,
    readonly stream: string,
  ) {}

  static async open(stream: string, url = TEST_NATS_URL): Promise<StreamReader> {
    const nc = await connect({ servers: url });
    return new StreamReader(nc, await jetstreamManager(nc), stream);
  }

  /** Messages stored (0 while the stream does not exist yet). */
  async count(): Promise<number> {
    return this.jsm.streams.info(this.stream).then(
      (i) => i.state.messages,
      () => 0,
    );
  }

  /** Every message, in stream order. */
  async all(): Promise<StreamMessage[]> {
    const { state } = await this.jsm.streams.info(this.stream);
    const out: StreamMessage[] = [];
    for (let from = state.first_seq; from <= state.last_seq; from += 200) {
      const seqs = Array.from({ length: Math.min(200, state.last_seq - from + 1) }, (_, i) => from + i);
      const got = await Promise.all(seqs.map((seq) => this.jsm.streams.getMessage(this.stream, { seq })));
      for (const m of got) {
        if (!m) continue;
        const headers: Record<string, string> = {};
        for (const key of m.header?.keys() ?? []) headers[key] = m.header.get(key);
        out.push({ seq: m.seq, subject: m.subject, headers, payload: m.json<Record<string, unknown>>() });
      }
    }
    return out;
  }

  /** Deletes the stream (the run's own) and closes the connection. */
  async deleteAndClose(): Promise<void> {
    await this.jsm.streams.delete(this.stream).catch(() => undefined);
    await this.nc.close();
  }
}
