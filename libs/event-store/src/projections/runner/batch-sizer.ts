/**
 * Batch size of one phase, with poison isolation: when a batch fails in the
 * projection's `apply`, the phase applies one event at a time up to the end
 * of that batch to find the failing event, then goes back to full batches.
 * Each phase (live, rebuild) has its own, so a live batch that commits can
 * never end the rebuild's search (which would re-apply its failing batch forever).
 */
export class BatchSizer {
  private size: number;
  private isolateUntil = 0;

  constructor(private readonly batchSize: number) {
    this.size = batchSize;
  }

  /** Events to read for the next batch. */
  get limit(): number {
    return this.size;
  }

  /** True while searching for the failing event one at a time. */
  get isolating(): boolean {
    return this.size === 1 && this.batchSize > 1;
  }

  /** A batch ending at position `until` failed: look for the failing event one at a time. */
  isolate(until: number): void {
    this.size = 1;
    this.isolateUntil = until;
  }

  /** A batch committed up to `to`; `stopped` when it stopped the phase on an event. */
  committed(to: number, stopped: boolean): void {
    if (stopped || (this.isolating && to >= this.isolateUntil)) this.reset();
  }

  reset(): void {
    this.size = this.batchSize;
    this.isolateUntil = 0;
  }
}
