import { Query } from '@nestjs/cqrs';
import type { UserView } from './user.view';

/** One user by id. */
export class GetUserQuery extends Query<UserView> {
  constructor(readonly userId: string) {
    super();
  }
}
