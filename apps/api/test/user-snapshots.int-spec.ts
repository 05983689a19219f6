import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import { AggregateRepository, createEventStore, defineSnapshot, type EventStoreHandle, type SnapshotDefinition } from '@app/event-store';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '@app/event-store/testing';
import { appEventStore } from '../src/app-event-store';
import { User } from '../src/users/user.aggregate';
import { userSnapshot, type UserSnapshotV1 } from '../src/users/user.snapshot';
import { userStreamId } from '../src/users/user-stream';

/**
 * The promise of snapshots, on the app's User: a user loaded from its latest snapshot plus the
 * events after it is the user a full replay gives, for generated histories (renames and awards
 * in segments, a load after each, so snapshots are taken at every kind of point), also when the
 * snapshot shape changes half-way (v1 snapshots are then ignored), and after the snapshots are
 * deleted. A planted bug (a restore that forgets a field) must make the property fail.
 */
const NUM_RUNS = 25;
const EVERY = [1, 2, 3, 5] as const;

/** A later shape of the User's snapshot: the name as one object. Loads of v2 must ignore v1 snapshots. */
interface UserSnapshotV2 {
  name: { first: string; last: string };
  email: string;
  points: number;
}
const userSnapshotV2 = (every: number): SnapshotDefinition<User, UserSnapshotV2> =>
  defineSnapshot<User, UserSnapshotV2>({
    aggregate: User,
    name: 'User',
    version: 2,
    every,
    take: (u) => ({ name: { first: u.firstName, last: u.lastName }, email: u.email, points: u.points }),
    restore: (u, s) => Object.assign(u, { firstName: s.name.first, lastName: s.name.last, email: s.email, points: s.points }),
  });

/** The planted bug: a restore that forgets the last name (as when a field is added to User but not to its snapshot). */
const forgetfulSnapshot = (every: number): SnapshotDefinition<User, UserSnapshotV1> => ({
  ...userSnapshot({ every }),
  restore: (u, s) => Object.assign(u, { firstName: s.firstName, email: s.email, points: s.points }),
});

type Change = { kind: 'rename'; firstName: string; lastName: string } | { kind: 'award'; points: number; reason: string };
const name = fc.stringMatching(/^[A-Za-z]{1,12}$/);
const change: fc.Arbitrary<Change> = fc.oneof(
  fc.record({ kind: fc.constant('rename' as const), firstName: name, lastName: name }),
  fc.record({ kind: fc.constant('award' as const), points: fc.integer({ min: 1, max: 1000 }), reason: name }),
);
const history = fc.record({
  every: fc.constantFrom(...EVERY),
  segments: fc.array(fc.array(change, { maxLength: 8 }), { minLength: 1, maxLength: 5 }),
  /** Segments from this index on are loaded with the v2 shape (past the end: never). */
  switchAt: fc.integer({ min: 0, max: 6 }),
});
type History = typeof history extends fc.Arbitrary<infer H> ? H : never;

const stateOf = (u: User | null) =>
  u && { firstName: u.firstName, lastName: u.lastName, email: u.email, points: u.points, version: u.version };

describe('User snapshots: snapshot + tail = full replay', () => {
  const schema = uniqueSchema('user_snap');
  const handles = new Map<string, EventStoreHandle>();
  let plain: EventStoreHandle;
  let replay: AggregateRepository;

  /** A store whose loads use `definition` (one per shape and `every`, opened once). */
  const repositoryWith = async (key: string, definition: SnapshotDefinition<User, any>) => {
    let es = handles.get(key);
    if (!es) {
      es = await createEventStore({
        url: TEST_DATABASE_URL,
        schema,
        ...appEventStore,
        snapshots: [definition],
        runMigrations: false,
        poolSize: 3,
      });
      handles.set(key, es);
    }
    return { es, repository: new AggregateRepository(es.store, undefined, es.snapshots) };
  };

  /** Writes the history through snapshot-loading repositories; after each segment, compares a snapshot load with a replay. */
  const agrees = async (h: History, shape: (every: number, v2: boolean) => [string, SnapshotDefinition<User, any>]): Promise<boolean> => {
    const id = randomUUID();
    const stream = userStreamId(id);
    await replay.save(User.register(id, { firstName: 'Ada', lastName: 'Lovelace', email: `${id}@example.com` }));
    for (const [i, segment] of h.segments.entries()) {
      const { es, repository } = await repositoryWith(...shape(h.every, i >= h.switchAt));
      for (const c of segment) {
        await repository.update(
          () => new User(id),
          stream,
          (u) => (c.kind === 'rename' ? u.rename(c.firstName, c.lastName) : u.awardPoints(c.points, c.reason, new Date(0))),
        );
      }
      await es.snapshots.flush();
      const fromSnapshot = stateOf(await repository.load(() => new User(id), stream));
      await es.snapshots.flush(); // a snapshot that load took is in place before the next segment: runs replay alike
      const full = stateOf(await replay.load(() => new User(id), stream));
      if (JSON.stringify(fromSnapshot) !== JSON.stringify(full)) return false;
    }
    return true;
  };
  const current = (every: number, v2: boolean): [string, SnapshotDefinition<User, any>] =>
    v2 ? [`v2/${every}`, userSnapshotV2(every)] : [`v1/${every}`, userSnapshot({ every })];

  beforeAll(async () => {
    plain = await createEventStore({ url: TEST_DATABASE_URL, schema, ...appEventStore, poolSize: 3 });
    replay = new AggregateRepository(plain.store);
  });
  afterAll(async () => {
    for (const es of handles.values()) await es.close();
    await plain?.close();
    await dropSchema(schema);
  });

  it(`holds for generated histories, across a change of the snapshot's shape (${NUM_RUNS} runs)`, async () => {
    await fc.assert(
      fc.asyncProperty(history, (h) => agrees(h, current)),
      { numRuns: NUM_RUNS },
    );
    const [{ versions }] = await plain.db.query<any>(
      `SELECT array_agg(DISTINCT schema_version ORDER BY schema_version) AS versions FROM "${schema}".snapshots`,
    );
    expect(versions).toEqual([1, 2]); // both shapes were taken and used
  });

  it('catches a planted bug: a restore that forgets a field', async () => {
    const buggy = (every: number): [string, SnapshotDefinition<User, any>] => [`bug/${every}`, forgetfulSnapshot(every)];
    const result = await fc.check(
      fc.asyncProperty(history, (h) => agrees(h, buggy)),
      { numRuns: NUM_RUNS, endOnFailure: true },
    );
    expect(result.failed).toBe(true);
  });

  it('loads a user whose snapshots were deleted (as the erasure does) by a full replay', async () => {
    const { es, repository } = await repositoryWith('v1/1', userSnapshot({ every: 1 }));
    const id = randomUUID();
    const stream = userStreamId(id);
    await replay.save(User.register(id, { firstName: 'Ada', lastName: 'Lovelace', email: `${id}@example.com` }));
    await repository.update(
      () => new User(id),
      stream,
      (u) => u.awardPoints(3, 'quiz', new Date(0)),
    );
    await repository.load(() => new User(id), stream);
    await es.snapshots.flush();
    expect(await es.snapshots.deleteSnapshots(stream)).toBe(1);
    expect(stateOf(await repository.load(() => new User(id), stream))).toEqual(stateOf(await replay.load(() => new User(id), stream)));
  });
});
