import { ApiProperty } from '@nestjs/swagger';
import type { CommandAppend } from '../../idempotency/request-outcome';
import { userIdOf } from '../user-stream';

/** What every write answers: the user, and the stream version and global position of the last event written. */
export class WriteResult {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ description: 'Stream version after the write (use it as If-Match)' }) version: number;
  @ApiProperty({ description: 'Global position of the last event written (use it as X-Min-Position)' }) position: number;
}

/**
 * The write result of an append to a user's stream. Handlers return it and the routes'
 * responses derive it through this one function, so the response stored with the events
 * and the one answered live are the same.
 */
export const writeResultOf = (append: CommandAppend): WriteResult => ({
  id: userIdOf(append.streamId),
  version: append.streamVersion,
  position: append.position,
});
