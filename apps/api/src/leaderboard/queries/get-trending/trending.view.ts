import { ApiProperty } from '@nestjs/swagger';

export class TrendingEntry {
  @ApiProperty() userId: string;
  @ApiProperty() firstName: string;
  @ApiProperty() lastName: string;
  @ApiProperty() points: number;
}

/** GET /leaderboard/trending answer. `position` is internal (the ledger checkpoint it reflects). */
export class Trending {
  @ApiProperty({ enum: ['24h', '7d', '30d'] }) window: string;
  @ApiProperty({ type: [TrendingEntry] }) entries: TrendingEntry[];
  @ApiProperty({ format: 'date-time' }) computedAt: string;
  position: number;
}
