import { randomUUID } from 'node:crypto';
import type { EventStoreHandle } from '@app/event-store';
import type { ExportedEvent } from '@app/event-store/tools';
import { batchAppends, timed } from './event-store-writes';
import { concurrently, median } from './measure';

/**
 * The write side of `bench:cost-curve`, at whatever size the log has now. The
 * baseline of a single append is a plain INSERT transaction into the same
 * table (same size, same indexes), so both pay what the log's size costs.
 * Every write is an event the app's projections can apply (each stream starts
 * with a registration), so the rebuilds at the next size read them too.
 */
const progress = (s: string) => process.stderr.write(`  ${s}\n`);
const award = (i: number) => ({ points: 1 + (i % 50), reason: 'curve', awardedAt: '2025-01-01T00:00:00.000Z' });
const registration = (stream: string) => ({ firstName: 'Ada', lastName: 'Lovelace', email: `${stream}@example.com` });
const METADATA = { occurredAt: '2025-01-01T00:00:00.000Z' };

/** `count` events over `streams` fresh user streams: each stream's first a registration (v2), then awards (v3). */
function userHistory(prefix: string, count: number, streams: number): ExportedEvent[] {
  return Array.from({ length: count }, (_, i) => {
    const streamId = `user-batch-${prefix}-${i % streams}`;
    const streamVersion = Math.floor(i / streams) + 1;
    const first = streamVersion === 1;
    return {
      eventId: randomUUID(),
      streamId,
      streamVersion,
      type: first ? 'UserRegistered' : 'PointsAwarded',
      schemaVersion: first ? 2 : 3,
      data: first ? registration(streamId) : award(i),
      metadata: METADATA,
      recordedAt: METADATA.occurredAt,
    };
  });
}

export interface WriteFigures {
  appendPerSec: number;
  plainInsertPerSec: number;
  /** Median of the same-round ratios. */
  appendOverInsert: number;
  batchAppendPerSec: number;
}

/** `rounds` interleaved runs of plain INSERT transactions and single-event appends into the log, then batch appends. */
export async function measureWrites(
  es: EventStoreHandle,
  opts: { clients: number; appends: number; rounds: number; batchEvents: number; batch: number },
): Promise<WriteFigures> {
  const prefix = randomUUID().slice(0, 8);
  const plain: number[] = [];
  const appended: number[] = [];
  for (let r = 1; r <= opts.rounds; r++) {
    progress(`round ${r}/${opts.rounds}: ${opts.appends} plain INSERT transactions, then ${opts.appends} appendToStream calls`);
    // Each write registers a user of its own (a new stream), on both sides.
    const stream = (side: string, i: number) => `user-${side}-${prefix}-${r}-${i}`;
    const p = await timed(() =>
      concurrently(opts.appends, opts.clients, (i) =>
        es.store.inTransaction((q) =>
          q.query(
            `INSERT INTO "${es.schema}".events (event_id, stream_id, stream_version, type, schema_version, data, metadata)
               VALUES ($1, $2, 1, 'UserRegistered', 2, $3, $4)`,
            [randomUUID(), stream('plain', i), JSON.stringify(registration(stream('plain', i))), JSON.stringify(METADATA)],
          ),
        ),
      ),
    );
    const a = await timed(() =>
      concurrently(opts.appends, opts.clients, (i) =>
        es.store.appendToStream(stream('append', i), [
          { type: 'UserRegistered', schemaVersion: 2, data: registration(stream('append', i)), metadata: METADATA },
        ]),
      ),
    );
    plain.push(opts.appends / (p.ms / 1000));
    appended.push(opts.appends / (a.ms / 1000));
  }
  progress(`batch appends: ${opts.batchEvents} events, ${opts.batch} per call over 50 streams`);
  const batchAppendPerSec = await batchAppends(es, userHistory(prefix, opts.batchEvents, 50), opts.batch);
  return {
    appendPerSec: median(appended),
    plainInsertPerSec: median(plain),
    appendOverInsert: median(appended.map((a, i) => a / plain[i])),
    batchAppendPerSec,
  };
}
