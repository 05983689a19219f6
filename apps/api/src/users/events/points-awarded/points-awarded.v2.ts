import { IsInt, IsPositive, IsString, Length } from 'class-validator';
import type { Upcaster } from '@app/event-store';
import type { PointsAwardedV1 } from './points-awarded.v1';

/** PointsAwarded v2: `amount` renamed to `points`, and every award has a reason. */
export class PointsAwardedV2 {
  @IsInt() @IsPositive() points: number;
  @IsString() @Length(1, 200) reason: string;
}

/** Reason given to awards recorded before reasons existed. */
export const LEGACY_REASON = 'legacy award';

/** v1 -> v2: rename `amount` to `points`; history had no reason, so it gets a fixed marker. */
export const upcastPointsAwardedV1: Upcaster<PointsAwardedV1, PointsAwardedV2> = ({ amount }) => ({
  points: amount,
  reason: LEGACY_REASON,
});
