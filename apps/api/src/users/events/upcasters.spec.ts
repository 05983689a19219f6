import { upcastPointsAwardedV1, LEGACY_REASON } from './points-awarded/points-awarded.v2';
import { upcastPointsAwardedV2 } from './points-awarded/points-awarded.v3';
import { upcastUserRegisteredV1 } from './user-registered/user-registered.v2';

const ctx = (occurredAt?: string) => ({ streamId: 'user-1', metadata: { occurredAt }, recordedAt: '2020-02-02T00:00:00.000Z' });

describe('UserRegistered v1 -> v2', () => {
  it.each([
    ['John Doe', 'John', 'Doe'],
    ['Jean-Claude Van Damme', 'Jean-Claude', 'Van Damme'],
    ['  Cher ', 'Cher', ''],
    ['Mary   Ann\tSmith', 'Mary', 'Ann Smith'],
  ])('splits %j into %j / %j', (fullName, firstName, lastName) => {
    expect(upcastUserRegisteredV1({ fullName, email: 'a@b.co' }, ctx())).toEqual({ firstName, lastName, email: 'a@b.co' });
  });

  it('yields an empty first name for a blank name (which validation then rejects)', () => {
    expect(upcastUserRegisteredV1({ fullName: '   ', email: 'a@b.co' }, ctx()).firstName).toBe('');
  });
});

describe('PointsAwarded v1 -> v2 -> v3', () => {
  it('renames amount to points with the legacy reason', () => {
    expect(upcastPointsAwardedV1({ amount: 5 }, ctx())).toEqual({ points: 5, reason: LEGACY_REASON });
  });

  it('takes awardedAt from metadata.occurredAt, else from recordedAt', () => {
    expect(upcastPointsAwardedV2({ points: 1, reason: 'r' }, ctx('2019-01-01T00:00:00.000Z')).awardedAt).toBe('2019-01-01T00:00:00.000Z');
    expect(upcastPointsAwardedV2({ points: 1, reason: 'r' }, ctx()).awardedAt).toBe('2020-02-02T00:00:00.000Z');
  });
});
