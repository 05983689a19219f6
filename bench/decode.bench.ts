/**
 * Decode benchmark, in memory (no database): upcast + validate of the same mix of
 * historic and current events as the event-store benchmark, through the reference
 * path (plainToInstance + validateSync on every event) and the compiled path.
 *   npm run bench:decode          (EVENTS=200000 ROUNDS=3)
 * Prints figures and the ratio, writes <BENCH_OUT or docs/benchmarks>/decode.{json,svg}.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EventRegistry, type StoredEvent } from '@app/event-store';
import { userEvents } from '../apps/api/src/users/events';
import { writeBarChart } from './chart';
import { benchOutDir, environment } from './bench-env';

const EVENTS = Number(process.env.EVENTS ?? 200_000);
const ROUNDS = Number(process.env.ROUNDS ?? 3);

/** The event-store benchmark's seed mix: UserRegistered v1/v2, then PointsAwarded v1/v2/v3. */
export function sampleEvent(i: number): StoredEvent {
  const users = Math.min(5000, Math.ceil(EVENTS / 20));
  const registered = i < users;
  const version = registered ? 1 + (i % 2) : 1 + (i % 3);
  const data: Record<string, unknown> = registered
    ? version === 1
      ? { fullName: `Jean Claude ${i}`, email: `u${i}@example.com` }
      : { firstName: 'Ada', lastName: `L${i}`, email: `u${i}@example.com` }
    : version === 1
      ? { amount: 1 + (i % 9) }
      : version === 2
        ? { points: 1 + (i % 9), reason: 'r' }
        : { points: 1 + (i % 9), reason: 'r', awardedAt: '2025-01-01T00:00:00.000Z' };
  return {
    position: i + 1,
    streamId: `seed-${i % users}`,
    streamVersion: Math.floor(i / users) + 1,
    eventId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    type: registered ? 'UserRegistered' : 'PointsAwarded',
    schemaVersion: version,
    data,
    metadata: { occurredAt: '2024-06-01T00:00:00.000Z' },
    recordedAt: '2024-06-01T00:00:01.000Z',
  };
}

/** Events per second of one registry over the sample, best of ROUNDS (the first round also warms the JIT). */
function measure(registry: EventRegistry, events: StoredEvent[]): number {
  let best = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const started = process.hrtime.bigint();
    for (const e of events) registry.upcast(e);
    best = Math.max(best, events.length / (Number(process.hrtime.bigint() - started) / 1e9));
  }
  return best;
}

function main(): void {
  const events = Array.from({ length: EVENTS }, (_, i) => sampleEvent(i));
  process.stderr.write(`  decoding ${EVENTS} events, best of ${ROUNDS} rounds per path\n`);
  const classValidatorPerSec = measure(new EventRegistry(userEvents, { decoding: 'class-validator' }), events);
  const compiledPerSec = measure(new EventRegistry(userEvents, { decoding: 'compiled' }), events);
  const ratio = compiledPerSec / classValidatorPerSec;
  console.log(`\nDecode in memory (upcast + validate, ${EVENTS} events, mixed versions)`);
  console.log(`  class-validator on every event (before): ${classValidatorPerSec.toFixed(0)} events/s`);
  console.log(`  compiled shapes (after):                 ${compiledPerSec.toFixed(0)} events/s   ratio ${ratio.toFixed(2)}x`);
  const out = benchOutDir();
  writeFileSync(
    join(out, 'decode.json'),
    JSON.stringify(
      {
        date: new Date().toISOString(),
        command: 'npm run bench:decode',
        ...environment(),
        events: EVENTS,
        rounds: ROUNDS,
        classValidatorPerSec,
        compiledPerSec,
        ratioCompiledOverClassValidator: ratio,
      },
      null,
      2,
    ) + '\n',
  );
  writeBarChart(join(out, 'decode.svg'), `Decode in memory: upcast + validate, ${EVENTS} mixed-version events`, 'events/s', [
    { label: 'class-validator per event', value: classValidatorPerSec, group: 'before' },
    { label: 'compiled shapes', value: compiledPerSec, group: 'after' },
  ]);
}

if (require.main === module) main();
