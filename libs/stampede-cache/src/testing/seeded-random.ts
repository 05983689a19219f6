/**
 * mulberry32: a tiny seeded PRNG, so statistical tests are reproducible. Returns values
 * in (0, 1] (never 0, which XFetch would read as "refresh infinitely early").
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 1) / 4294967296;
  };
}

/** A deterministic sequence, cycled: for exact XFetch decisions. */
export function sequence(...values: number[]): () => number {
  let index = 0;
  return () => values[index++ % values.length];
}
