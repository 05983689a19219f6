import { MAX_POINTS_PER_AWARD, PointsAwarded, UserRegistered, UserRenamed } from './events';
import { User } from './user.aggregate';
import { InvalidPointsError } from './users.errors';

/** Given these past events, when this command, then these new events (or this error). */
function given(...history: object[]): User {
  const user = new User('u1');
  user.loadFromHistory(history);
  user.version = history.length;
  return user;
}
const registered = new UserRegistered({ firstName: 'Ada', lastName: 'Lovelace', email: 'ada@example.com' });
const at = new Date('2026-01-01T00:00:00.000Z');

describe('User aggregate', () => {
  it('register -> UserRegistered with a normalised email', () => {
    const user = User.register('u1', { firstName: 'Ada', lastName: 'Lovelace', email: 'Ada@Example.com' });
    expect(user.getUncommittedEvents()).toEqual([registered]);
    expect(user.streamId).toBe('user-u1');
  });

  it('given registered, when rename -> UserRenamed and the new name', () => {
    const user = given(registered);
    user.rename('Augusta', 'King');
    expect(user.getUncommittedEvents()).toEqual([new UserRenamed({ firstName: 'Augusta', lastName: 'King' })]);
    expect(user).toMatchObject({ firstName: 'Augusta', lastName: 'King', email: 'ada@example.com' });
  });

  it('given registered and 5 points, when award 7 -> PointsAwarded and 12 points', () => {
    const user = given(registered, new PointsAwarded({ points: 5, reason: 'a', awardedAt: at.toISOString() }));
    user.awardPoints(7, 'b', at);
    expect(user.getUncommittedEvents()).toEqual([new PointsAwarded({ points: 7, reason: 'b', awardedAt: at.toISOString() })]);
    expect(user.points).toBe(12);
  });

  it.each([0, -1, 1.5, MAX_POINTS_PER_AWARD + 1])('given registered, when award %p -> InvalidPointsError, no event', (p) => {
    const user = given(registered);
    expect(() => user.awardPoints(p, 'x', at)).toThrow(InvalidPointsError);
    expect(user.getUncommittedEvents()).toEqual([]);
  });
});
