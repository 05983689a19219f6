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
