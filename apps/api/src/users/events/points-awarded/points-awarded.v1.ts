import { IsInt, IsPositive } from 'class-validator';

/** PointsAwarded v1 (legacy): an amount, no reason. */
export class PointsAwardedV1 {
  @IsInt() @IsPositive() amount: number;
}
