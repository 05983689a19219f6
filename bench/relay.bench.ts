/**
 * Outbox relay throughput against its ceiling, in the same run, to the same NATS server with the
 * same client library: the relay (settled batch reads from PostgreSQL, decode and upcast, contract
 * mapping, pipelined publishes each naming the one before it, a checkpoint per batch) against
 * plain pipelined JetStream publishes of the same messages (same subjects, headers and
 * `Nats-Msg-Id`, 256 in flight, nothing read or checkpointed).
 *   npm run bench:relay        (EVENTS=20000 ROUNDS=3 BATCH=500; NATS_URL / TEST_NATS_URL, DATABASE_URL / TEST_DATABASE_URL)
 * Prints figures, the ratio and the load average, writes <BENCH_OUT or docs/benchmarks>/relay.{json,svg}.
 */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { headers as natsHeaders, type NatsConnection } from '@nats-io/nats-core';
import { createEventStore, NOTHING_PUBLISHED, type RecordedEvent } from '@app/event-store';
import { appEventStore } from '../apps/api/src/app-event-store';
import { INTEGRATION_CONTRACTS } from '../apps/api/src/integration/integration-contracts';
import { integrationHeaders } from '../apps/api/src/integration/integration-headers';
import { JetStreamPublisher, subjectOf } from '../apps/api/src/integration/jetstream-publisher';
import { NatsLink } from '../apps/api/src/integration/nats-link';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '@app/event-store/testing';
import { benchOutDir, environment } from './bench-env';
import { writeBarChart } from './chart';
import { median } from './measure';

const EVENTS = Number(process.env.EVENTS ?? 20_000);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const DB_URL = process.env.DATABASE_URL ?? TEST_DATABASE_URL;
const NATS_URL = process.env.NATS_URL ?? process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
const IN_FLIGHT = 256;
/** Events per relay checkpoint (the relay's `batchSize`; the app uses the default, 500). */
const BATCH = Number(process.env.BATCH ?? 500);
const progress = (line: string) => process.stderr.write(`  ${line}\n`);

/** PointsAwarded v3 events over 500 user streams, inserted in one statement. */
const SEED = (schema: string) => `INSERT INTO "${schema}".events (event_id, stream_id, stream_version, type, schema_version, data, metadata)
  SELECT gen_random_uuid(), 'user-00000000-0000-4000-8000-' || lpad((i % 500)::text, 12, '0'), (i / 500) + 1, 'PointsAwarded', 3,
         jsonb_build_object('points', 1 + i % 9, 'reason', 'bench', 'awardedAt', '2025-01-01T00:00:00.000Z'),
         jsonb_build_object('correlationId', 'bench-' || i, 'causationId', 'http:bench-' || i)
    FROM generate_series(0, $1 - 1) AS i`;

async function main(): Promise<void> {
  const schema = uniqueSchema('bench_relay');
  const es = await createEventStore({ url: DB_URL, schema, ...appEventStore, projections: [], projectionPollMs: 20 });
  const link = new NatsLink(NATS_URL, 'bench-relay');
  const nc = await link.get();
  const jsm = await jetstreamManager(nc);
  const streams: string[] = [];
  const freshStream = (kind: string, round: number) => {
    const name = `BENCH_RELAY_${kind}_${process.pid}_${round}`;
    streams.push(name);
    return { stream: name, namespace: `bench_relay_${kind.toLowerCase()}_${process.pid}_${round}` };
  };
  const relayed: number[] = [];
  const pipelined: number[] = [];
  try {
    await es.db.query(SEED(schema), [EVENTS]);
    const events: RecordedEvent[] = (await es.store.readBatch(1, Number.MAX_SAFE_INTEGER, EVENTS)).map((e) => es.registry.upcast(e));
    progress(`seeded ${events.length} events; ${ROUNDS} interleaved rounds`);
    for (let round = 0; round < ROUNDS; round++) {
      pipelined.push(await publishPipelined(nc, freshStream('PIPE', round), events));
      relayed.push(await relayAll(es, link, freshStream('RELAY', round), round));
      progress(`round ${round + 1}: pipelined ${pipelined.at(-1)!.toFixed(0)}/s, relay ${relayed.at(-1)!.toFixed(0)}/s`);
    }
  } finally {
    for (const stream of streams) await jsm.streams.delete(stream).catch(() => undefined);
    await es.close();
    await link.close();
    await dropSchema(schema, DB_URL);
  }
  report(median(relayed), median(pipelined));
}

/** Events per second of plain pipelined publishes of the same messages, `IN_FLIGHT` at a time. */
async function publishPipelined(
  nc: NatsConnection,
  names: { stream: string; namespace: string },
  events: RecordedEvent[],
): Promise<number> {
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: names.stream, subjects: [`${names.namespace}.events.>`] });
  const js = jetstream(nc);
  const contract = INTEGRATION_CONTRACTS.find((c) => c.type === 'PointsAwarded')!;
  const started = process.hrtime.bigint();
  const inFlight: Promise<unknown>[] = [];
  for (const event of events) {
    if (inFlight.length >= IN_FLIGHT) await inFlight.shift();
    const h = natsHeaders();
    for (const [key, value] of Object.entries(integrationHeaders(event, contract))) h.set(key, value);
    inFlight.push(
      js.publish(subjectOf(names.namespace, contract), JSON.stringify(contract.toPayload(event)), { msgID: event.eventId, headers: h }),
    );
  }
  await Promise.all(inFlight);
  return events.length / (Number(process.hrtime.bigint() - started) / 1e9);
}

/** Events per second of a relay from checkpoint 0 to the head, through the app's JetStream publisher. */
async function relayAll(
  es: Awaited<ReturnType<typeof createEventStore>>,
  link: NatsLink,
  names: { stream: string; namespace: string },
  round: number,
): Promise<number> {
  const publisher = new JetStreamPublisher(link, INTEGRATION_CONTRACTS, {
    ...names,
    retention: 'limits',
    maxAgeMs: 0,
    duplicateWindowMs: 120_000,
    publishTimeoutMs: 10_000,
  });
  if ((await publisher.lastPublished()).position !== NOTHING_PUBLISHED.position) throw new Error('the bench stream is not empty');
  let published = 0;
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const relay = es.createRelay({
    name: `bench_${round}`,
    types: publisher.types,
    publisher,
    batchSize: BATCH,
    onPublished: (batch) => (published += batch.length) >= EVENTS && done(),
  });
  const started = process.hrtime.bigint();
  await relay.start();
  await finished;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await relay.stop();
  return EVENTS / seconds;
}

function report(relayPerSec: number, pipelinedPerSec: number): void {
  const ratio = relayPerSec / pipelinedPerSec;
  const load = loadavg().map((l) => Number(l.toFixed(2)));
  console.log(`\nOutbox relay to NATS JetStream (${EVENTS} events, median of ${ROUNDS} interleaved rounds, load ${load.join(' ')})`);
  console.log(`  pipelined publishes, same client and server: ${pipelinedPerSec.toFixed(0)} events/s`);
  console.log(`  relay (read, decode, map, publish, checkpoint): ${relayPerSec.toFixed(0)} events/s   ratio ${ratio.toFixed(2)}`);
  const out = benchOutDir();
  const result = { date: new Date().toISOString(), command: 'npm run bench:relay', ...environment(), loadAverage: load, events: EVENTS };
  const figures = { rounds: ROUNDS, inFlight: IN_FLIGHT, batch: BATCH, relayPerSec, pipelinedPerSec, ratioRelayOverPipelined: ratio };
  writeFileSync(join(out, 'relay.json'), JSON.stringify({ ...result, ...figures }, null, 2) + '\n');
  writeBarChart(join(out, 'relay.svg'), `Outbox relay vs pipelined JetStream publishes, ${EVENTS} events`, 'events/s', [
    { label: 'pipelined publishes', value: pipelinedPerSec, group: 'before' },
    { label: 'outbox relay', value: relayPerSec, group: 'after' },
  ]);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:relay failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
