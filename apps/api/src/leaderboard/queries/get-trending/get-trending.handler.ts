import { Inject } from '@nestjs/common';
import { QueryHandler } from '@nestjs/cqrs';
import { setTimeout as sleep } from 'node:timers/promises';
import { EVENT_STORE_HANDLE, type EventStoreHandle } from '@app/event-store';
import { buildCacheKey, CachedQuery, type CachedQueryHandler } from '@app/stampede-cache';
import { AppConfig } from '../../../config/app-config';
import { fromReadModel, readModelOf } from '../../../read-side/read-model';
import { LEADERBOARD_TAG, pointsLedgerProjection } from '../../points-ledger.projection';
import { GetTrendingQuery, TRENDING_WINDOWS } from './get-trending.query';
import type { Trending } from './trending.view';

/**
 * The heavy read: sums every award in the window from the points ledger. Caching (one
 * recompute at a time across all instances, stale served meanwhile) and read-your-writes
 * happen at the query bus, declared here. TRENDING_MIN_COMPUTE_MS pads each load to
 * simulate a slow origin.
 */
@QueryHandler(GetTrendingQuery)
@CachedQuery<GetTrendingQuery, Trending, GetTrendingHandler>({
  key: ({ window, limit }) => buildCacheKey('leaderboard.trending', { window, limit }),
  tags: () => [LEADERBOARD_TAG],
  freshness: readModelOf(pointsLedgerProjection),
  entryOptions: (handler) => ({ ttl: handler.config.TRENDING_CACHE_TTL_MS }),
  cache: 'trending',
})
export class GetTrendingHandler implements CachedQueryHandler<GetTrendingQuery, Trending> {
  constructor(
    @Inject(EVENT_STORE_HANDLE) private readonly es: EventStoreHandle,
    @Inject(AppConfig) readonly config: AppConfig,
  ) {}

  execute({ window, limit }: GetTrendingQuery): Promise<Trending> {
    return this.compute(window, limit);
  }

  /** The aggregation itself (also the benchmark's naive baseline, which bypasses the cache). */
  private async compute(window: GetTrendingQuery['window'], limit: number): Promise<Trending> {
    const started = Date.now();
    const table = (name: string) => this.es.projections.tableName(name);
    type Row = { checkpoint: string; user_id: string | null; first_name: string; last_name: string; points: string };
    const rows: Row[] = await fromReadModel(
      () =>
        this.es.db.query(
          `WITH checkpoint AS (SELECT position FROM ${table('projections')} WHERE name = $3),
              top AS (
                SELECT l.user_id, sum(l.points) AS points
                  FROM ${table('points_ledger')} l
                 WHERE l.awarded_at >= now() - make_interval(hours => $1)
                 GROUP BY l.user_id
                 ORDER BY points DESC, l.user_id
                 LIMIT $2)
         SELECT c.position AS checkpoint, t.user_id, n.first_name, n.last_name, t.points
           FROM checkpoint c
           LEFT JOIN top t ON true
           LEFT JOIN ${table('ledger_names')} n ON n.user_id = t.user_id
          ORDER BY t.points DESC NULLS LAST, t.user_id`,
          [TRENDING_WINDOWS[window], limit, pointsLedgerProjection.name],
        ),
      [],
    );
    const pad = this.config.TRENDING_MIN_COMPUTE_MS - (Date.now() - started);
    if (pad > 0) await sleep(pad);
    return {
      window,
      entries: rows
        .filter((r) => r.user_id !== null)
        .map((r) => ({ userId: r.user_id!, firstName: r.first_name ?? '', lastName: r.last_name ?? '', points: Number(r.points) })),
      computedAt: new Date().toISOString(),
      position: Number(rows[0]?.checkpoint ?? 0),
    };
  }
}
