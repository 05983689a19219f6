import { Controller, Get, Query, Res } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiHeader, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { HttpReply } from '../common/http-message';
import { MinPosition } from '../read-side/min-position.decorator';
import { setReadHeaders } from '../read-side/read-headers';
import { GetTrendingQuery } from './queries/get-trending/get-trending.query';
import { Trending } from './queries/get-trending/trending.view';
import { TrendingQueryDto } from './trending.query.dto';

@ApiTags('leaderboard')
@Controller('leaderboard')
export class LeaderboardController {
  constructor(private readonly queries: QueryBus) {}

  @Get('trending')
  @ApiHeader({ name: 'X-Min-Position', required: false, description: 'Answer only from data at least this fresh' })
  @ApiResponse({ status: 200, type: Trending, description: 'X-Cache: HIT | STALE | MISS | BYPASS' })
  async trending(
    @Query() q: TrendingQueryDto, // unknown parameters are dropped by the global pipe, never part of the key
    @MinPosition() minPosition: number | undefined,
    @Res({ passthrough: true }) res: HttpReply,
  ): Promise<Omit<Trending, 'position'>> {
    const read = await this.queries.execute(new GetTrendingQuery(q.window, q.limit, minPosition));
    setReadHeaders(res, read);
    const { position: _position, ...body } = read.value;
    return body;
  }
}
