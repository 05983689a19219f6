import { IsInt } from 'class-validator';
import { defineEvent } from '../registry/event-definition';

/** The one event type of the write-path tests: a number, so tests can tell events apart by it. */
export class Noted {
  @IsInt() n: number;
}

/** The registry definitions for `Noted`. */
export const notedEvents = [defineEvent({ type: 'Noted', version: 1, eventClass: Noted })];

/** A `Noted` event to append, with an id when the test needs one. */
export const note = (n: number, eventId?: string) => ({ type: 'Noted', schemaVersion: 1, data: { n }, eventId });
