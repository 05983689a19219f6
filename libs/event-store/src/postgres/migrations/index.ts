import { CreateEventLog1700000000001 } from './1700000000001-create-event-log';
import { AppendFunction1700000000002 } from './1700000000002-append-function';
import { Projections1700000000003 } from './1700000000003-projections';
import { ProjectionRebuildAbort1700000000004 } from './1700000000004-projection-rebuild-abort';
import { PositionReservation1700000000005 } from './1700000000005-position-reservation';
import { CancelSafeAppend1700000000006 } from './1700000000006-cancel-safe-append';
import { AppendToStreams1700000000007 } from './1700000000007-append-to-streams';
import { PersonalDataKeys1700000000012 } from './1700000000012-personal-data-keys';
import { Snapshots1700000000020 } from './1700000000020-snapshots';

/** Every migration of the event store, in order. Add new ones at the end; never edit a released one. */
export const eventStoreMigrations = [
  CreateEventLog1700000000001,
  AppendFunction1700000000002,
  Projections1700000000003,
  ProjectionRebuildAbort1700000000004,
  PositionReservation1700000000005,
  CancelSafeAppend1700000000006,
  AppendToStreams1700000000007,
  PersonalDataKeys1700000000012,
  Snapshots1700000000020,
];
