import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

/** Query of GET /admin/streams/:streamId/events. */
export class StreamEventsQueryDto {
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) fromVersion?: number;
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(10_000) limit?: number;
}
