import { IQueryHandler, QueryHandler } from '@nestjs/cqrs';
import { AggregateRepository } from '@app/event-store';
import { User, userStreamId } from '../../user.aggregate';
import { UserNotFoundError } from '../../users.errors';
import { GetUserQuery } from './get-user.query';
import type { UserView } from './user.view';

/** Reads the user by replaying its stream (the projection-backed read model replaces this later). */
@QueryHandler(GetUserQuery)
export class GetUserHandler implements IQueryHandler<GetUserQuery, UserView> {
  constructor(private readonly repository: AggregateRepository) {}

  async execute({ userId }: GetUserQuery): Promise<UserView> {
    const user = await this.repository.load(() => new User(userId), userStreamId(userId));
    if (!user) throw new UserNotFoundError(userId);
    const { id, firstName, lastName, email, points, version } = user;
    return { id, firstName, lastName, email, points, version };
  }
}
