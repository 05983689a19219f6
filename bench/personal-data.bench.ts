/**
 * Personal-data benchmark: the append rate with crypto-shredding (personal fields sealed with
 * the person's data key) against the same appends to a store without it, in the same run on
 * the same PostgreSQL, and the read (readStream: decrypt + upcast) rate of each.
 *   npm run bench:personal-data
 *     USERS=400 AWARDS=4 CLIENTS=8 ROUNDS=5
 * Each round registers USERS users (3 personal fields) and gives each AWARDS awards (a personal
 * reason), with CLIENTS concurrent writers, once per store, alternating which goes first.
 * Prints events/s and ratios (median of per-round ratios); writes
 * <BENCH_OUT or docs/benchmarks>/personal-data.{json,svg}.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { createEventStore, type EventStoreHandle } from '@app/event-store';
import { userEvents } from '../apps/api/src/users/events';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '@app/event-store/testing';
import { benchOutDir, environment } from './bench-env';
import { writeBarChart } from './chart';
import { timed } from './event-store-writes';
import { median } from './measure';

const URL = process.env.DATABASE_URL ?? TEST_DATABASE_URL;
const USERS = Number(process.env.USERS ?? 400);
const AWARDS = Number(process.env.AWARDS ?? 4);
const CLIENTS = Number(process.env.CLIENTS ?? 8);
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const progress = (s: string) => process.stderr.write(`  ${s}\n`);

const registered = (i: number) => ({
  type: 'UserRegistered',
  schemaVersion: 2,
  data: { firstName: `First${i}`, lastName: `Last${i}`, email: `user${i}.${randomUUID()}@example.com` },
});
const awarded = (i: number) => ({
  type: 'PointsAwarded',
  schemaVersion: 3,
  data: { points: 1 + (i % 50), reason: `reason ${i}`, awardedAt: '2025-01-01T00:00:00.000Z' },
});

/** USERS streams, each appended to 1 + AWARDS times (one event per append), by CLIENTS writers; events/s. */
async function appendRound(es: EventStoreHandle, round: number): Promise<{ perSec: number; streams: string[] }> {
  const streams = Array.from({ length: USERS }, (_, i) => `user-r${round}-${i}-${randomUUID().slice(0, 8)}`);
  let next = 0;
  const { ms } = await timed(() =>
    Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        for (let u = next++; u < USERS; u = next++) {
          await es.store.appendToStream(streams[u], [registered(u)], { expectedVersion: 'no_stream' });
          for (let a = 0; a < AWARDS; a++) await es.store.appendToStream(streams[u], [awarded(a)], { expectedVersion: a + 1 });
        }
      }),
    ),
  );
  return { perSec: (USERS * (1 + AWARDS)) / (ms / 1000), streams };
}

/** Every stream read back through readStream (decrypt, upcast, validate); events/s. */
async function readRound(es: EventStoreHandle, streams: string[]): Promise<number> {
  let events = 0;
  const { ms } = await timed(async () => {
    for (const s of streams) for await (const _ of es.store.readStream(s)) events++;
  });
  return events / (ms / 1000);
}

async function main(): Promise<void> {
  const plainSchema = uniqueSchema('bench_pii_plain');
  const sealedSchema = uniqueSchema('bench_pii_sealed');
  const plain = await createEventStore({ url: URL, schema: plainSchema, events: userEvents, poolSize: CLIENTS + 2 });
  const sealed = await createEventStore({
    url: URL,
    schema: sealedSchema,
    events: userEvents,
    poolSize: CLIENTS + 2,
    personalData: { masterKey: randomBytes(32) },
  });
  const rates = { plain: [] as number[], sealed: [] as number[], plainRead: [] as number[], sealedRead: [] as number[] };
  const load: number[] = [];
  try {
    for (let r = 1; r <= ROUNDS; r++) {
      progress(`round ${r}/${ROUNDS}: ${USERS} users x ${1 + AWARDS} appends, ${CLIENTS} clients, plain and encrypted`);
      load.push(loadavg()[0]);
      // Alternate the order, so neither store always runs on the warmer (or busier) half of the round.
      const order: Array<['plain' | 'sealed', EventStoreHandle]> =
        r % 2
          ? [
              ['plain', plain],
              ['sealed', sealed],
            ]
          : [
              ['sealed', sealed],
              ['plain', plain],
            ];
      for (const [name, es] of order) {
        const { perSec, streams } = await appendRound(es, r);
        rates[name].push(perSec);
        rates[name === 'plain' ? 'plainRead' : 'sealedRead'].push(await readRound(es, streams.slice(0, 100)));
      }
    }
  } finally {
    await plain.close();
    await sealed.close();
    await dropSchema(plainSchema, URL);
    await dropSchema(sealedSchema, URL);
  }
  const results = {
    plainAppendPerSec: median(rates.plain),
    encryptedAppendPerSec: median(rates.sealed),
    encryptedOverPlainAppendMedianOfRounds: median(rates.sealed.map((s, i) => s / rates.plain[i])),
    plainReadPerSec: median(rates.plainRead),
    encryptedReadPerSec: median(rates.sealedRead),
    encryptedOverPlainReadMedianOfRounds: median(rates.sealedRead.map((s, i) => s / rates.plainRead[i])),
  };
  console.log(`\nAppends with crypto-shredding vs without (${USERS} users x ${1 + AWARDS} events, ${CLIENTS} clients, ${ROUNDS} rounds)`);
  console.log(`  plain:     ${results.plainAppendPerSec.toFixed(0)} events/s`);
  console.log(`  encrypted: ${results.encryptedAppendPerSec.toFixed(0)} events/s`);
  console.log(`  ratio (encrypted / plain, median of rounds): ${results.encryptedOverPlainAppendMedianOfRounds.toFixed(2)}`);
  console.log(
    `  readStream: plain ${results.plainReadPerSec.toFixed(0)} events/s, encrypted ${results.encryptedReadPerSec.toFixed(0)} events/s`,
  );
  console.log(`  load average (1 min) at the rounds: ${load.map((l) => l.toFixed(1)).join(', ')}`);
  const out = benchOutDir();
  const params = { USERS, AWARDS, CLIENTS, ROUNDS };
  writeFileSync(
    join(out, 'personal-data.json'),
    JSON.stringify(
      { date: new Date().toISOString(), environment: environment(), loadAverage: load, params, results, rounds: rates },
      null,
      2,
    ) + '\n',
  );
  writeBarChart(join(out, 'personal-data.svg'), 'Appends and stream reads with and without crypto-shredding (same run)', 'events/s', [
    { label: 'append, plain', value: results.plainAppendPerSec, group: 'append' },
    { label: 'append, encrypted', value: results.encryptedAppendPerSec, group: 'append' },
    { label: 'readStream, plain', value: results.plainReadPerSec, group: 'read' },
    { label: 'readStream, encrypted', value: results.encryptedReadPerSec, group: 'read' },
  ]);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
