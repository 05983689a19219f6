import type { RecordedEvent } from '@app/event-store';
import { PointsAwarded } from '../users/events';
import { UserEventType } from '../users/events/event-types';
import { userIdOf } from '../users/user-stream';

/**
 * An integration event's contract: what other services get for one stored event type. It is
 * mapped from the latest (upcast) domain event, so a new stored version never changes it; a
 * change of the payload is a new `contractVersion`. Contracts carry ids and facts, never personal
 * data (names, emails, free text). Documented in docs/api.md ("Integration events").
 */
export interface IntegrationContract {
  /** The stored event type it maps (also the subject's last token). */
  readonly type: string;
  /** The kind of stream the event belongs to: the subject's third token (`user`). */
  readonly streamType: string;
  /** Bumped whenever the payload's shape or meaning changes; sent in the `Event-Contract-Version` header. */
  readonly contractVersion: number;
  /** The payload other services get, from the upcast event. */
  toPayload(event: RecordedEvent): Record<string, unknown>;
}

/** `UserRegistered` v1: a user exists. Name and email stay in this service. */
const userRegisteredContract: IntegrationContract = {
  type: UserEventType.Registered,
  streamType: 'user',
  contractVersion: 1,
  toPayload: (e) => ({ userId: userIdOf(e.streamId) }),
};

/** `UserRenamed` v1: the user's display name changed (ask this service for it, with its access rules). */
const userRenamedContract: IntegrationContract = {
  type: UserEventType.Renamed,
  streamType: 'user',
  contractVersion: 1,
  toPayload: (e) => ({ userId: userIdOf(e.streamId) }),
};

/** `PointsAwarded` v1: how many points, and when they count; the free-text reason stays here. */
const pointsAwardedContract: IntegrationContract = {
  type: UserEventType.PointsAwarded,
  streamType: 'user',
  contractVersion: 1,
  toPayload: (e) => {
    const { points, awardedAt } = e.data as PointsAwarded;
    return { userId: userIdOf(e.streamId), points, awardedAt };
  },
};

/**
 * `UserErased` v1: the person asked to be forgotten. A consumer that kept anything about the user
 * (fetched through this service's API) deletes it now; the ids and points facts stay valid.
 */
const userErasedContract: IntegrationContract = {
  type: UserEventType.Erased,
  streamType: 'user',
  contractVersion: 1,
  toPayload: (e) => ({ userId: userIdOf(e.streamId) }),
};

/** Every published type; a stored type without a contract is not published. */
export const INTEGRATION_CONTRACTS: readonly IntegrationContract[] = [
  userRegisteredContract,
  userRenamedContract,
  pointsAwardedContract,
  userErasedContract,
];
