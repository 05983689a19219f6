import { ApiProperty } from '@nestjs/swagger';
import type { AppendResult } from '@app/event-store';

/** What every write answers: the user, and the stream version and global position of the last event written. */
export class WriteResult {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ description: 'Stream version after the write (use it as If-Match)' }) version: number;
  @ApiProperty({ description: 'Global position of the last event written (use it as X-Min-Position)' }) position: number;
}

/** The write result of an append to user `id`'s stream. */
export const toWriteResult =
  (id: string) =>
  (appended: AppendResult): WriteResult => ({
    id,
    version: appended.streamVersion,
    position: appended.position,
  });
