import { Query } from '@nestjs/cqrs';
import type { ReadModelRead } from '../../../read-side/read-model';
import type { UserProfileRead } from './user-profile.read';
import type { UserViewScope } from './user.view';

/** One user by id in the view `scope`, at least as fresh as `minPosition` (from X-Min-Position) when given. */
export class GetUserQuery extends Query<ReadModelRead<UserProfileRead>> {
  constructor(
    readonly userId: string,
    readonly minPosition?: number,
    readonly scope: UserViewScope = 'private',
  ) {
    super();
  }
}
