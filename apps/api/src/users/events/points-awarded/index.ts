import { defineEvent } from '@app/event-store';
import { UserEventType } from '../event-types';
import { PointsAwardedV1 } from './points-awarded.v1';
import { PointsAwardedV2, upcastPointsAwardedV1 } from './points-awarded.v2';
import { PointsAwarded, upcastPointsAwardedV2 } from './points-awarded.v3';

export { PointsAwarded, MAX_POINTS_PER_AWARD } from './points-awarded.v3';

/** Stored as "PointsAwarded"; current schema v3, a three-version chain v1 -> v2 -> v3. */
export const pointsAwardedEvent = defineEvent({
  type: UserEventType.PointsAwarded,
  version: 3,
  eventClass: PointsAwarded,
  // The reason is free text a person may write anything into: personal.
  personalData: { points: false, reason: 'text', awardedAt: false },
  history: [
    { version: 1, shape: PointsAwardedV1, upcast: upcastPointsAwardedV1, personalData: { amount: false } },
    { version: 2, shape: PointsAwardedV2, upcast: upcastPointsAwardedV2, personalData: { points: false, reason: 'text' } },
  ],
});
