import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, Max, Min } from 'class-validator';
import { TRENDING_WINDOWS, type TrendingWindow } from './queries/get-trending/get-trending.query';

/** Query of GET /leaderboard/trending. Other parameters are ignored (and never reach the cache key). */
export class TrendingQueryDto {
  @ApiPropertyOptional({ enum: Object.keys(TRENDING_WINDOWS), default: '24h' })
  @IsOptional()
  @IsIn(Object.keys(TRENDING_WINDOWS))
  window: TrendingWindow = '24h';

  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 10 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  limit: number = 10;
}
