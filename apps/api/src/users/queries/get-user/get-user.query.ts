import { Query } from '@nestjs/cqrs';
import type { FreshReadResult } from '../../../read-side/fresh-read';
import type { UserProfileRead } from './get-user.handler';

/** One user by id, at least as fresh as `minPosition` (from X-Min-Position) when given. */
export class GetUserQuery extends Query<FreshReadResult<UserProfileRead>> {
  constructor(
    readonly userId: string,
    readonly minPosition?: number,
  ) {
    super();
  }
}
