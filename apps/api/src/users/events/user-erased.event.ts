import { defineEvent } from '@app/event-store';
import { IsISO8601 } from 'class-validator';
import { UserEventType } from './event-types';

/**
 * UserErased v1 (current): the person asked to be forgotten. Appended in the transaction that
 * deletes the person's data key, so from its commit on every personal field of the stream
 * reads as its erased marker. It carries no personal data itself.
 */
export class UserErased {
  constructor(props?: UserErased) {
    Object.assign(this, props);
  }
  @IsISO8601({ strict: true }) erasedAt: string;
}

export const userErasedEvent = defineEvent({
  type: UserEventType.Erased,
  version: 1,
  eventClass: UserErased,
  personalData: { erasedAt: false },
});
