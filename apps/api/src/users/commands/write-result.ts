import { ApiProperty } from '@nestjs/swagger';

/** What every write answers: the user, and the stream version and global position of the last event written. */
export class WriteResult {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ description: 'Stream version after the write (use it as If-Match)' }) version: number;
  @ApiProperty({ description: 'Global position of the last event written (use it as X-Min-Position)' }) position: number;
}
