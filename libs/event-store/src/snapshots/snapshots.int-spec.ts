import { IsInt, IsString } from 'class-validator';
import { randomUUID } from 'node:crypto';
import { eventually } from '../../../../test/eventually';
import { AggregateRepository } from '../aggregate/aggregate-repository';
import { EventSourcedAggregate } from '../aggregate/event-sourced-aggregate';
import { createEventStore, EventStoreHandle } from '../create-event-store';
import { defineEvent } from '../registry/event-definition';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '../testing/test-database';
import { defineSnapshot, type SnapshotCodec, type SnapshotDefinition } from './snapshot-definition';
import { SNAPSHOT_HEAD_EVENTS } from './snapshot-load';
import { MAX_SNAPSHOT_WRITES_IN_FLIGHT, type SnapshotFault } from './snapshot-store';

class Counted {
  constructor(props?: Counted) {
    Object.assign(this, props);
  }
  @IsInt() by: number;
}

class Erased {
  constructor(props?: Erased) {
    Object.assign(this, props);
  }
  @IsString() reason: string;
}

class Counter extends EventSourcedAggregate {
  total = 0;
  count = 0;
  constructor(readonly id: string) {
    super();
  }
  get streamId() {
    return `counter-${this.id}`;
  }
  protected onCounted(e: Counted) {
    this.total += e.by;
    this.count += 1;
  }
  protected onErased() {
    this.total = 0;
  }
}

const events = [
  defineEvent({ type: 'Counted', version: 1, eventClass: Counted }),
  defineEvent({ type: 'Erased', version: 1, eventClass: Erased }),
];
const v1 = (overrides: Partial<SnapshotDefinition<Counter, { total: number; count: number }>> = {}) =>
  defineSnapshot<Counter, { total: number; count: number }>({
    aggregate: Counter,
    name: 'Counter',
    version: 1,
    every: 3,
    take: (c) => ({ total: c.total, count: c.count }),
    restore: (c, s) => Object.assign(c, s),
    notAfter: ['Erased'],
    ...overrides,
  });

/** Advisory locks of this stream (second key `hashtext(stream id)`, an oid in pg_locks) that a session waits for. */
const WAITING_ON_STREAM_LOCK = `SELECT count(*)::int AS n FROM pg_locks
  WHERE locktype = 'advisory' AND NOT granted AND objsubid = 2 AND objid::bigint = (hashtext($1)::bigint + 4294967296) % 4294967296`;

/** A promise the test releases: holds a snapshot's encode at a chosen point. */
function deferred() {
  let release!: () => void;
  const promise = new Promise<void>((r) => (release = r));
  return { promise, release };
}

describe('snapshots: load from the latest snapshot plus the tail', () => {
  const schema = uniqueSchema('es_snap');
  const opened: EventStoreHandle[] = [];
  let plain: EventStoreHandle;
  const open = async (definition: SnapshotDefinition<Counter, any>) => {
    const es = await createEventStore({ url: TEST_DATABASE_URL, schema, events, snapshots: [definition], runMigrations: false });
    opened.push(es);
    return { es, repository: new AggregateRepository(es.store, undefined, es.snapshots) };
  };
  const append = (id: string, bys: number[]) =>
    plain.store.appendToStream(
      `counter-${id}`,
      bys.map((by) => ({ type: 'Counted', schemaVersion: 1, data: { by } })),
    );
  const replayed = async (id: string) => (await new AggregateRepository(plain.store).load(() => new Counter(id), `counter-${id}`))!;
  const rows = (id: string) =>
    plain.db.query<{ schema_version: number; stream_version: number; state: unknown }>(
      `SELECT schema_version, stream_version, state FROM "${schema}".snapshots WHERE stream_id = $1 ORDER BY schema_version`,
      [`counter-${id}`],
    );

  beforeAll(async () => {
    plain = await createEventStore({ url: TEST_DATABASE_URL, schema, events });
  });
  afterAll(async () => {
    for (const es of opened) await es.close();
    await plain?.close();
    await dropSchema(schema);
  });

  it('takes a snapshot after a load that replayed `every` events, and starts the next load from it', async () => {
    const id = randomUUID();
    const decoded: number[] = [];
    const codec: SnapshotCodec<{ total: number; count: number }> = {
      encode: (s) => ({ sealed: Buffer.from(JSON.stringify(s)).toString('base64') }),
      decode: (stored, context) => {
        decoded.push(context.streamVersion);
        return JSON.parse(Buffer.from(String(stored.sealed), 'base64').toString()) as { total: number; count: number };
      },
    };
    const { es, repository } = await open(v1({ codec }));
    await append(id, [1, 2]);
    await repository.load(() => new Counter(id), `counter-${id}`);
    await es.snapshots.flush();
    expect(await rows(id)).toEqual([]); // 2 events replayed: below every = 3

    await append(id, [3, 4, 5]);
    await repository.load(() => new Counter(id), `counter-${id}`);
    await es.snapshots.flush();
    const [row] = await rows(id);
    expect(row).toMatchObject({ schema_version: 1, stream_version: 5 });
    expect(JSON.stringify(row.state)).not.toContain('15'); // stored through the codec

    await append(id, [6, 7]);
    const loaded = await repository.load(() => new Counter(id), `counter-${id}`);
    expect(decoded).toEqual([5]);
    expect(loaded).toMatchObject({ version: 7, total: 28, count: 7 });
    expect(loaded).toEqual(await replayed(id));
  });

  it('reads a tail longer than the first round trip (SNAPSHOT_HEAD_EVENTS) on in batches, with and without a snapshot', async () => {
    const id = randomUUID();
    const { es, repository } = await open(v1());
    for (let i = 0; i < 2; i++)
      await append(
        id,
        Array.from({ length: SNAPSHOT_HEAD_EVENTS }, (_, i) => i),
      );
    await append(id, [1]);
    expect(await repository.load(() => new Counter(id), `counter-${id}`)).toEqual(await replayed(id));
    await es.snapshots.flush();
    await append(
      id,
      Array.from({ length: SNAPSHOT_HEAD_EVENTS + 7 }, (_, i) => i * 3),
    );
    const loaded = await repository.load(() => new Counter(id), `counter-${id}`);
    expect(loaded).toEqual(await replayed(id));
    expect(loaded!.count).toBe(SNAPSHOT_HEAD_EVENTS * 3 + 8);
  });

  it('ignores a snapshot of another schema version: full replay, then a snapshot of its own version', async () => {
    const id = randomUUID();
    const old = await open(v1());
    await append(id, [1, 1, 1, 1]);
    await old.repository.load(() => new Counter(id), `counter-${id}`);
    await old.es.snapshots.flush();
    // The new shape keeps the total in cents: restoring a v1 state with it would be a wrong state.
    const restoredFrom: unknown[] = [];
    const v2 = defineSnapshot<Counter, { cents: number; count: number }>({
      aggregate: Counter,
      name: 'Counter',
      every: 3,
      version: 2,
      take: (c) => ({ cents: c.total * 100, count: c.count }),
      restore: (c, s) => {
        restoredFrom.push(s);
        Object.assign(c, { total: s.cents / 100, count: s.count });
      },
    });
    const next = await open(v2);
    const loaded = await next.repository.load(() => new Counter(id), `counter-${id}`);
    expect(restoredFrom).toEqual([]);
    expect(loaded).toEqual(await replayed(id));
    await next.es.snapshots.flush();
    expect((await rows(id)).map((r) => [r.schema_version, r.stream_version])).toEqual([
      [1, 4],
      [2, 4],
    ]);
  });

  it('never lets a stale snapshot replace a newer one', async () => {
    const id = randomUUID();
    const hold = deferred();
    const slow = await open(v1({ codec: { encode: async (s) => (await hold.promise, s), decode: (s) => s as never } }));
    const fast = await open(v1());
    await append(id, [1, 1, 1]);
    await slow.repository.load(() => new Counter(id), `counter-${id}`); // its write (version 3) waits in encode
    await append(id, [1, 1, 1]);
    await fast.repository.load(() => new Counter(id), `counter-${id}`);
    await fast.es.snapshots.flush();
    hold.release();
    await slow.es.snapshots.flush();
    expect((await rows(id)).map((r) => r.stream_version)).toEqual([6]);
  });

  it('deleteSnapshots removes every shape; the next load replays in full', async () => {
    const id = randomUUID();
    const { es, repository } = await open(v1());
    await append(id, [2, 2, 2]);
    await repository.load(() => new Counter(id), `counter-${id}`);
    await es.snapshots.flush();
    await plain.db.query(
      `INSERT INTO "${schema}".snapshots SELECT stream_id, aggregate_type, 9, stream_version, event_id, state FROM "${schema}".snapshots WHERE stream_id = $1`,
      [`counter-${id}`],
    );
    expect(await es.snapshots.deleteSnapshots(`counter-${id}`)).toBe(2);
    expect(await rows(id)).toEqual([]);
    expect(await repository.load(() => new Counter(id), `counter-${id}`)).toEqual(await replayed(id));
  });

  it('stores nothing after a notAfter event, even from a write in flight while the erasure commits', async () => {
    const id = randomUUID();
    const hold = deferred();
    const { es, repository } = await open(v1({ codec: { encode: async (s) => (await hold.promise, s), decode: (s) => s as never } }));
    await append(id, [1, 2, 3]);
    await repository.load(() => new Counter(id), `counter-${id}`);
    await es.store.inTransaction(async (q) => {
      await es.store.appendWithin(q, `counter-${id}`, [{ type: 'Erased', schemaVersion: 1, data: { reason: 'asked' } }]);
      await es.snapshots.deleteSnapshots(`counter-${id}`, q);
      hold.release();
      // The write now waits for this transaction's stream lock; commit only once it does.
      await eventually(
        async () => (await plain.db.query<{ n: number }>(WAITING_ON_STREAM_LOCK, [`counter-${id}`]))[0].n > 0,
        10_000,
        'the snapshot write waiting on the stream lock',
      );
    });
    await es.snapshots.flush();
    expect(await rows(id)).toEqual([]);
    await repository.load(() => new Counter(id), `counter-${id}`); // 4 events replayed, the last one Erased
    await es.snapshots.flush();
    expect(await rows(id)).toEqual([]);
  });

  it('skips a snapshot whose encode fails (a write fault), and keeps at most MAX_SNAPSHOT_WRITES_IN_FLIGHT writes at once', async () => {
    const failing = await open(v1({ codec: { encode: () => Promise.reject(new Error('no key yet')), decode: (s) => s as never } }));
    const faults: SnapshotFault[] = [];
    failing.es.snapshots.onFault((f) => faults.push(f));
    const id = randomUUID();
    await append(id, [1, 1, 1]);
    expect(await failing.repository.load(() => new Counter(id), `counter-${id}`)).toEqual(await replayed(id));
    await failing.es.snapshots.flush();
    expect(faults.map((f) => [f.operation, (f.error as Error).message])).toEqual([['write', 'no key yet']]);
    expect(await rows(id)).toEqual([]);

    const hold = deferred();
    const slow = await open(v1({ codec: { encode: async (s) => (await hold.promise, s), decode: (s) => s as never } }));
    const ids = Array.from({ length: MAX_SNAPSHOT_WRITES_IN_FLIGHT + 1 }, () => randomUUID());
    for (const each of ids) {
      await append(each, [1, 1, 1]);
      await slow.repository.load(() => new Counter(each), `counter-${each}`);
    }
    hold.release();
    await slow.es.snapshots.flush();
    const taken = await Promise.all(ids.map(async (each) => (await rows(each)).length));
    expect(taken).toEqual([...Array<number>(MAX_SNAPSHOT_WRITES_IN_FLIGHT).fill(1), 0]);
    await slow.repository.load(() => new Counter(ids[ids.length - 1]), `counter-${ids[ids.length - 1]}`); // the next load takes it
    await slow.es.snapshots.flush();
    expect(await rows(ids[ids.length - 1])).toHaveLength(1);
  });

  it('replays in full when a snapshot cannot be decoded, or its event is not in the log at its version', async () => {
    const id = randomUUID();
    const faults: SnapshotFault[] = [];
    const broken = await open(v1({ codec: { encode: (s) => s, decode: () => Promise.reject(new Error('no key')) } }));
    broken.es.snapshots.onFault((f) => faults.push(f));
    await append(id, [5, 5, 5]);
    await broken.repository.load(() => new Counter(id), `counter-${id}`);
    await broken.es.snapshots.flush();
    await append(id, [5]);
    expect(await broken.repository.load(() => new Counter(id), `counter-${id}`)).toEqual(await replayed(id));
    await broken.es.snapshots.flush();
    expect(faults.map((f) => [f.operation, f.name, (f.error as Error).message])).toEqual([['read', 'Counter', 'no key']]);

    let restored = 0;
    const { repository } = await open(v1({ restore: () => void restored++ }));
    await plain.db.query(`UPDATE "${schema}".snapshots SET event_id = $2 WHERE stream_id = $1`, [`counter-${id}`, randomUUID()]);
    expect(await repository.load(() => new Counter(id), `counter-${id}`)).toEqual(await replayed(id));
    expect(restored).toBe(0);
  });
});
