import { IsInt, IsISO8601, IsPositive, IsString, Length, Max } from 'class-validator';
import type { Upcaster } from '@app/event-store';
import type { PointsAwardedV2 } from './points-awarded.v2';

/** Largest single award; keeps totals far below 2^53. */
export const MAX_POINTS_PER_AWARD = 1_000_000;

/** PointsAwarded v3 (current): carries when the points count for the leaderboard windows. */
export class PointsAwarded {
  constructor(props?: PointsAwarded) {
    Object.assign(this, props);
  }
  @IsInt() @IsPositive() @Max(MAX_POINTS_PER_AWARD) points: number;
  @IsString() @Length(1, 200) reason: string;
  @IsISO8601({ strict: true }) awardedAt: string;
}

/** v2 -> v3: `awardedAt` is when the award happened, which v2 kept only in metadata (`occurredAt`, else recordedAt). */
export const upcastPointsAwardedV2: Upcaster<PointsAwardedV2, PointsAwarded> = (data, { metadata, recordedAt }) => ({
  ...data,
  awardedAt: typeof metadata.occurredAt === 'string' ? metadata.occurredAt : recordedAt,
});
