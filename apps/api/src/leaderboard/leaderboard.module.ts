import { Module } from '@nestjs/common';
import { LeaderboardController } from './leaderboard.controller';
import { GetTrendingHandler } from './queries/get-trending/get-trending.handler';

/** The trending leaderboard over the points_ledger projection. */
@Module({ controllers: [LeaderboardController], providers: [GetTrendingHandler] })
export class LeaderboardModule {}
