import { setTimeout as sleep } from 'node:timers/promises';
import type { EventStore } from '../../src';
import type { StreamAppend } from '../../src/postgres/append-batch';
import type { FaultyInstance } from './instance';
import { AppendLedger, deposit, describe } from './ledger';

/** A seeded PRNG (mulberry32): a scenario's plan is a function of its seed. */
export class Rng {
  constructor(private state: number) {}
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }
}

/** Live streams the writers share (so appends, batches and expected versions collide); the import writes streams of its own. */
const ACCOUNTS = 60;
/**
 * Pause between one writer's appends. The writers are not trying to load the
 * machine (2 cores, shared): the pause paces them so a scenario's log stays a
 * few thousand events and the checks stay quick.
 */
const WRITER_PACE_MS = 3;

/** Concurrent writers (single appends and `appendToStreams` batches) on whichever instance is up, until `stop()`. */
export class Writers {
  private stopping = false;
  private readonly loops: Promise<void>[] = [];
  /** A writer loop that threw outside an append (the ledger catches the appends' own failures): a harness fault. */
  readonly errors: string[] = [];

  constructor(
    private readonly instances: FaultyInstance[],
    private readonly ledger: AppendLedger,
    private readonly observer: EventStore,
    private readonly rng: Rng,
  ) {}

  start(singles: number, batches: number): void {
    for (let i = 0; i < singles; i++) this.loops.push(this.run((store) => this.single(store)));
    for (let i = 0; i < batches; i++) this.loops.push(this.run((store) => this.batch(store)));
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.loops);
  }

  private async run(write: (store: EventStore) => Promise<unknown>): Promise<void> {
    while (!this.stopping) {
      const up = this.instances.filter((i) => i.handle);
      if (up.length) await write(this.rng.pick(up).handle!.store).catch((e) => this.errors.push(`writer: ${describe(e)}`));
      await sleep(WRITER_PACE_MS);
    }
  }

  private async single(store: EventStore): Promise<void> {
    const streamId = `acct-${this.rng.int(0, ACCOUNTS - 1)}`;
    const events = Array.from({ length: this.rng.int(1, 3) }, () => deposit(this.rng.int(1, 97)));
    // One in five states the version it read a moment ago: some of those conflict (refused: nothing may be written).
    const expectedVersion = this.rng.next() < 0.2 ? await this.observer.streamVersion(streamId) : ('any' as const);
    await this.ledger.single(store, { streamId, events, expectedVersion });
  }

  private async batch(store: EventStore): Promise<void> {
    const first = this.rng.int(0, ACCOUNTS - 1);
    // Up to MAX_STREAMS_PER_BATCH (50) distinct streams, each once.
    const count = this.rng.int(2, 50);
    const appends: StreamAppend[] = Array.from({ length: count }, (_, k) => ({
      streamId: `acct-${(first + k) % ACCOUNTS}`,
      events: Array.from({ length: this.rng.int(1, 2) }, () => deposit(this.rng.int(1, 97))),
    }));
    await this.ledger.batch(store, appends);
  }
}
