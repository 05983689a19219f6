import { EventSourcedAggregate } from '@app/event-store';
import { foldEmail } from './email-fold';
import { MAX_POINTS_PER_AWARD, PointsAwarded, UserErased, UserRegistered, UserRenamed } from './events';
import { userStreamId } from './user-stream';
import { InvalidPointsError, UserErasedError } from './users.errors';

/**
 * A user: registration, renames and points. Holds the rules; its state is
 * rebuilt from its (upcast) events.
 */
export class User extends EventSourcedAggregate {
  firstName = '';
  lastName = '';
  email = '';
  points = 0;
  /** Set once the person was erased: nothing more happens to this user. */
  erased = false;

  constructor(readonly id: string) {
    super();
  }

  get streamId(): string {
    return userStreamId(this.id);
  }

  /** Starts a new user. */
  static register(id: string, props: { firstName: string; lastName: string; email: string }): User {
    const user = new User(id);
    user.apply(new UserRegistered({ ...props, email: foldEmail(props.email) }));
    return user;
  }

  rename(firstName: string, lastName: string): void {
    this.mustNotBeErased();
    this.apply(new UserRenamed({ firstName, lastName }));
  }

  awardPoints(points: number, reason: string, awardedAt: Date): void {
    this.mustNotBeErased();
    if (!Number.isInteger(points) || points < 1 || points > MAX_POINTS_PER_AWARD) {
      throw new InvalidPointsError(points);
    }
    this.apply(new PointsAwarded({ points, reason, awardedAt: awardedAt.toISOString() }));
  }

  /** Forgets the person: the erasure event; the caller deletes their data key in the same transaction. */
  erase(erasedAt: Date): void {
    this.mustNotBeErased();
    this.apply(new UserErased({ erasedAt: erasedAt.toISOString() }));
  }

  private mustNotBeErased(): void {
    if (this.erased) throw new UserErasedError(this.id);
  }

  protected onUserRegistered(e: UserRegistered): void {
    this.firstName = e.firstName;
    this.lastName = e.lastName;
    this.email = e.email;
  }

  protected onUserRenamed(e: UserRenamed): void {
    this.firstName = e.firstName;
    this.lastName = e.lastName;
  }

  protected onPointsAwarded(e: PointsAwarded): void {
    this.points += e.points;
  }

  protected onUserErased(): void {
    this.erased = true;
    this.firstName = '';
    this.lastName = '';
    this.email = '';
  }
}
