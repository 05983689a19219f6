import { ApiProperty } from '@nestjs/swagger';
import { IsInt, IsPositive, IsString, Length, Matches, Max } from 'class-validator';
import { MAX_POINTS_PER_AWARD } from '../../events';

/** Body of POST /users/:id/points. */
export class AwardPointsDto {
  @ApiProperty({ example: 10, minimum: 1, maximum: MAX_POINTS_PER_AWARD })
  @IsInt()
  @IsPositive()
  @Max(MAX_POINTS_PER_AWARD)
  points: number;

  @ApiProperty({ example: 'fixed a flaky test', maxLength: 200 })
  @IsString()
  @Length(1, 200)
  @Matches(/\S/, { message: 'reason must not be blank' })
  reason: string;
}
