import { Query } from '@nestjs/cqrs';
import type { ReadModelRead } from '../../../read-side/read-model';
import type { Trending } from './trending.view';

/** Windows the trending leaderboard supports, with their length in hours. */
export const TRENDING_WINDOWS = { '24h': 24, '7d': 7 * 24, '30d': 30 * 24 } as const;
export type TrendingWindow = keyof typeof TRENDING_WINDOWS;

/** Top users by points awarded within the window, at least as fresh as `minPosition` when given. */
export class GetTrendingQuery extends Query<ReadModelRead<Trending>> {
  constructor(
    readonly window: TrendingWindow,
    readonly limit: number,
    readonly minPosition?: number,
  ) {
    super();
  }
}
