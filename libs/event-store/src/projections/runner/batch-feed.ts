import { EventReadError } from '../../errors';
import type { EventStore } from '../../postgres/postgres-event-store';
import type { RecordedEvent, StoredEvent } from '../../types';
import type { ProjectionError, ProjectionPhase } from '../projection-state';

/** One event of a batch: decoded, or the read error that makes it a poison event. */
export type FedEvent = { position: number; event: RecordedEvent; error?: undefined } | { position: number; error: EventReadError };

/** A batch of settled events of the handled types, decoded. */
export interface FedBatch {
  from: number;
  /** Every handled event in [from, to] is in `events`: the last one read, or the settled head when the batch was not full. */
  to: number;
  full: boolean;
  events: FedEvent[];
}

export type BatchReader = (from: number, limit: number) => Promise<FedBatch>;

/**
 * Reads batches of one phase, one ahead: after a full batch it starts reading
 * and decoding the next on a pooled connection, so reading and decoding
 * overlap with the current batch being applied on the lock connection. A
 * prefetched batch is only used when the phase asks for exactly its start and
 * size; anything else (a stop, a skip, a smaller batch) discards it.
 */
export class BatchFeed {
  private ahead?: { from: number; limit: number; batch: Promise<FedBatch> };

  constructor(private readonly read: BatchReader) {}

  async take(from: number, limit: number): Promise<FedBatch> {
    const ahead = this.ahead;
    this.ahead = undefined;
    const batch = await (ahead && ahead.from === from && ahead.limit === limit ? ahead.batch : this.read(from, limit));
    if (batch.full) {
      const next = this.read(batch.to + 1, limit);
      next.catch(() => undefined); // surfaces when taken; a discarded prefetch must not crash the process
      this.ahead = { from: batch.to + 1, limit, batch: next };
    }
    return batch;
  }

  /** Forgets the prefetched batch. */
  reset(): void {
    this.ahead = undefined;
  }
}

/**
 * Reads settled events only: the head is taken first, and the batch is read
 * in a later snapshot, so every handled event up to that head is visible to it
 * (see ADR 0002). When the batch is not full it reaches the head.
 */
export function settledBatchReader(store: EventStore, types: readonly string[]): BatchReader {
  return async (from, limit) => {
    const head = await store.headPosition();
    if (head < from) return { from, to: from - 1, full: false, events: [] };
    const read = await store.readBatch(from, head, limit, undefined, types);
    // Personal fields decrypted (or erased markers) before decoding; one key lookup per batch.
    const stored = await store.reveal(read);
    const full = stored.length === limit;
    const events: FedEvent[] = [];
    for (let i = 0; i < stored.length; i++) {
      // Decode in slices, letting I/O through in between: the batch being applied meanwhile
      // gets each statement's answer at once instead of after the whole decode.
      if (i > 0 && i % DECODE_SLICE === 0) await yieldToIo();
      events.push(decode(store, stored[i]));
    }
    return { from, to: full ? read[read.length - 1].position : head, full, events };
  };
}

/** Events decoded between two yields to I/O. */
const DECODE_SLICE = 100;

const yieldToIo = () => new Promise<void>((resolve) => setImmediate(resolve));

function decode(store: EventStore, e: StoredEvent | EventReadError): FedEvent {
  if (e instanceof EventReadError) return { position: e.location.position, error: e };
  try {
    return { position: e.position, event: store.registry.upcast(e) };
  } catch (error) {
    if (error instanceof EventReadError) return { position: e.position, error };
    throw error;
  }
}

/**
 * A batch's events to apply, in order, up to its first unreadable one (a poison event), which
 * comes back as the error that stops `phase` at its position; `skipped` positions (an operator's
 * skip for this phase) are left out, readable or not.
 */
export function untilPoison(
  batch: FedBatch,
  phase: ProjectionPhase,
  skipped: ReadonlySet<number> = new Set(),
): { events: RecordedEvent[]; poison?: ProjectionError } {
  const events: RecordedEvent[] = [];
  for (const e of batch.events) {
    if (skipped.has(e.position)) continue;
    if (e.error) {
      const { location, code, reason } = e.error;
      return { events, poison: { ...location, code, reason, at: new Date().toISOString(), phase } };
    }
    events.push(e.event);
  }
  return { events };
}
