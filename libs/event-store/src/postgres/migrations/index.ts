import { CreateEventLog1700000000001 } from './1700000000001-create-event-log';
import { AppendFunction1700000000002 } from './1700000000002-append-function';
import { Projections1700000000003 } from './1700000000003-projections';
import { ProjectionRebuildAbort1700000000004 } from './1700000000004-projection-rebuild-abort';

/** Every migration of the event store, in order. Add new ones at the end; never edit a released one. */
export const eventStoreMigrations = [
  CreateEventLog1700000000001,
  AppendFunction1700000000002,
  Projections1700000000003,
  ProjectionRebuildAbort1700000000004,
];
