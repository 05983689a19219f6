import { defineEvent } from '@app/event-store';
import { IsString, Length, MaxLength } from 'class-validator';
import { UserEventType } from './event-types';

/** UserRenamed v1 (current). */
export class UserRenamed {
  constructor(props?: UserRenamed) {
    Object.assign(this, props);
  }
  @IsString() @Length(1, 100) firstName: string;
  @IsString() @MaxLength(200) lastName: string;
}

export const userRenamedEvent = defineEvent({
  type: UserEventType.Renamed,
  version: 1,
  eventClass: UserRenamed,
  personalData: { firstName: 'text', lastName: 'text' },
});
