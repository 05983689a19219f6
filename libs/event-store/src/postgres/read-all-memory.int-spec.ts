import { IsString } from 'class-validator';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createEventStore, EventStoreHandle } from '../create-event-store';
import { defineEvent } from '../registry/event-definition';
import { seedEvents } from '../testing/seed';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '../testing/test-database';

class Filler {
  @IsString() text: string;
}
const COUNT = 120_000;
const PAYLOAD = 400; // bytes of text per event: the whole log is ~50 MB of JSON

// Retained memory, not allocation churn, is what "constant memory" means: collect before each sample.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Reads the log while sampling the retained heap; returns events seen and peak retained growth in MB. */
async function streamAndMeasure(es: EventStoreHandle, upTo: number): Promise<{ seen: number; peakMb: number; lastPosition: number }> {
  gc();
  const base = process.memoryUsage().heapUsed;
  let peak = 0;
  let seen = 0;
  let lastPosition = 0;
  for await (const e of es.store.readAll<Filler>({ batchSize: 1000, toPosition: upTo })) {
    if (e.position <= lastPosition) throw new Error('out of order');
    lastPosition = e.position;
    if (++seen % 10_000 === 0) {
      gc();
      peak = Math.max(peak, process.memoryUsage().heapUsed - base);
    }
  }
  return { seen, peakMb: peak / 1e6, lastPosition };
}

describe('readAll over a large store', () => {
  const schema = uniqueSchema();
  let es: EventStoreHandle;
  beforeAll(async () => {
    es = await createEventStore({
      url: TEST_DATABASE_URL,
      schema,
      events: [defineEvent({ type: 'Filler', version: 1, eventClass: Filler })],
    });
    await seedEvents(es.db, schema, {
      count: COUNT,
      streams: 1000,
      type: 'Filler',
      schemaVersion: 1,
      data: () => `jsonb_build_object('text', repeat('x', ${PAYLOAD}))`,
    });
  });
  afterAll(async () => {
    await es?.close();
    await dropSchema(schema);
  });

  it(`streams ${COUNT} events in order with flat memory (10x the events, not 10x the heap)`, async () => {
    const small = await streamAndMeasure(es, COUNT / 10);
    const large = await streamAndMeasure(es, Number.MAX_SAFE_INTEGER);
    expect(small.seen).toBe(COUNT / 10);
    expect(large.seen).toBe(COUNT);
    // Holding all events would retain > 50 MB; streaming retains about one batch, whatever the size.
    expect(large.peakMb).toBeLessThan(16);
    expect(large.peakMb).toBeLessThan(small.peakMb + 8);
  }, 120_000);
});
