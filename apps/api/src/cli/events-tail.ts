import type { MsgHdrs, NatsConnection } from '@nats-io/nats-core';
import { DeliverPolicy, jetstream } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { loadConfig } from '../config/app-config';

/**
 * npm run events:tail [-- --new] — prints the integration events of the relay's JetStream stream
 * (NATS_URL, default nats://127.0.0.1:4222; NATS_STREAM, default API_EVENTS) as they arrive, one
 * line each: stream sequence, subject, position, stream id and version, correlation id and the
 * payload. From the first message, or only new ones with `--new`. Ctrl-C ends it. An ordered
 * consumer: nothing is acknowledged, nothing is left on the server.
 */
async function main(): Promise<void> {
  const config = loadConfig({ ...process.env, NATS_URL: process.env.NATS_URL ?? 'nats://127.0.0.1:4222' });
  const connectNats = connect as (options: { servers: string[] }) => Promise<NatsConnection>;
  const nc = await connectNats({ servers: config.NATS_URL!.split(',') });
  const deliver_policy = process.argv.includes('--new') ? DeliverPolicy.New : DeliverPolicy.All;
  const consumer = await jetstream(nc).consumers.get(config.NATS_STREAM, { deliver_policy });
  process.once('SIGINT', () => void nc.close().then(() => process.exit(0)));
  console.error(`tailing stream ${config.NATS_STREAM} on ${nc.getServer()} (${deliver_policy})`);
  for await (const m of await consumer.consume()) {
    const headers = m.headers as MsgHdrs | undefined;
    const h = (name: string) => headers?.get(name) || '-';
    const where = `position=${h('Event-Position')} ${h('Event-Stream-Id')} v${h('Event-Stream-Version')}`;
    console.log(`#${m.seq} ${m.subject} ${where} correlation=${h('Correlation-Id')} ${m.string()}`);
  }
}

main().catch((error: unknown) => {
  console.error(`events:tail failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(2);
});
