import { TieredStore } from '../tiers/tiered-store';

/**
 * Watches cache callers from now on, so a test can release a slow computation only once
 * every caller it started is waiting on it: a caller whose first read of the cache has
 * completed is in its instance's flight for the key (it joins or starts one with no await
 * in between).
 */
export function watchCallers(): { inFlight: (count: number) => Promise<boolean>; stop: () => void } {
  const reads = jest.spyOn(TieredStore.prototype, 'read');
  return {
    /** True once `count` callers are in a flight; waits for the reads already made to complete. */
    inFlight: async (count) => {
      if (reads.mock.results.length < count) return false;
      await Promise.all(reads.mock.results.map((read): unknown => read.value));
      return true;
    },
    stop: () => reads.mockRestore(),
  };
}
