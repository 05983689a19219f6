/** Small measuring helpers every benchmark shares. */

/** The median of `xs` (the upper one of an even count), without sorting `xs` itself. */
export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Runs `total` operations from `clients` concurrent loops. */
export async function concurrently(total: number, clients: number, op: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      for (let i = next++; i < total; i = next++) await op(i);
    }),
  );
}
