/*
 * Read-your-writes, the app's side: what a projection-backed query declares (`readModelOf`)
 * and how it loads. The protocol itself lives in the cache library:
 * libs/stampede-cache/README.md#read-your-writes.
 */
import type { Projection } from '@app/event-store';
import type { CachedRead, QueryFreshness } from '@app/stampede-cache';

/** A query of a projection-backed read model: the `X-Min-Position` it must honour, if any. */
export interface ReadModelQuery {
  readonly minPosition?: number;
}

/** A read-model result: the projection checkpoint it reflects. */
export interface Positioned {
  position: number;
}

/** What the query bus answers for a cached read-model query. */
export type ReadModelRead<T extends Positioned> = CachedRead<T>;

/** Cache tag every value read from a projection carries; a rebuild switch commits it, dropping them all. */
export const projectionTag = (name: string) => `projection:${name}`;

/**
 * Read-your-writes for a cached query of `projection`: the cache waits for the projection
 * to reach the query's `minPosition` and never answers from an older value. Declaring it
 * is all a new query needs: `@CachedQuery({ ..., freshness: readModelOf(myProjection) })`.
 */
export function readModelOf<Q extends ReadModelQuery, R extends Positioned>(projection: Pick<Projection, 'name'>): QueryFreshness<Q, R> {
  return {
    source: projection.name,
    minPosition: (query) => query.minPosition,
    position: (result) => result.position,
    tags: [projectionTag(projection.name)],
  };
}

const UNDEFINED_TABLE = '42P01';

/**
 * Loads from a read model that may not exist yet (no instance has run its projection in
 * this schema, e.g. every instance starts with RUN_PROJECTIONS=false): a missing table is
 * an empty model at position 0, so a read answers "not found" or empty instead of a 500.
 */
export async function fromReadModel<T>(load: () => Promise<T>, empty: T): Promise<T> {
  try {
    return await load();
  } catch (error) {
    const e = error as { code?: unknown; driverError?: { code?: unknown } };
    if ((e.driverError?.code ?? e.code) === UNDEFINED_TABLE) return empty;
    throw error;
  }
}
