import { IsInt } from 'class-validator';
import { randomUUID } from 'node:crypto';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { createEventStore, EventStoreHandle } from '../create-event-store';
import { schemaOf } from '../postgres/migrations/schema-of';
import type { Queryable } from '../postgres/queryable';
import { defineEvent } from '../registry/event-definition';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '../testing/test-database';
import { AggregateRepository } from './aggregate-repository';
import { EventSourcedAggregate } from './event-sourced-aggregate';

class Counted {
  constructor(props?: Counted) {
    Object.assign(this, props);
  }
  @IsInt() by: number;
}

class Counter extends EventSourcedAggregate {
  total = 0;
  constructor(readonly id: string) {
    super();
  }
  get streamId() {
    return `counter-${this.id}`;
  }
  add(by: number) {
    this.apply(new Counted({ by }));
  }
  protected onCounted(e: Counted) {
    this.total += e.by;
  }
}

/** An application table written beside appends, created through the `migrations` option. */
class CreateAuditRows1800000000001 implements MigrationInterface {
  name = 'CreateAuditRows1800000000001';
  async up(q: QueryRunner) {
    await q.query(`CREATE TABLE ${schemaOf(q)}.audit_rows (stream_id text NOT NULL, position bigint NOT NULL)`);
  }
  async down(q: QueryRunner) {
    await q.query(`DROP TABLE ${schemaOf(q)}.audit_rows`);
  }
}

describe('AggregateRepository with a transaction hook, and application migrations', () => {
  const schema = uniqueSchema();
  let es: EventStoreHandle;
  let repository: AggregateRepository;
  const auditRows = async (streamId: string) =>
    (await es.db.query<any>(`SELECT position FROM "${schema}".audit_rows WHERE stream_id = $1`, [streamId])).map(
      (r: { position: string }) => Number(r.position),
    );
  const audit = (streamId: string) => async (q: Queryable, r: { position: number }) => {
    await q.query(`INSERT INTO "${schema}".audit_rows VALUES ($1, $2)`, [streamId, r.position]);
  };

  beforeAll(async () => {
    es = await createEventStore({
      url: TEST_DATABASE_URL,
      schema,
      migrations: [CreateAuditRows1800000000001],
      events: [defineEvent({ type: 'Counted', version: 1, eventClass: Counted })],
    });
    repository = new AggregateRepository(es.store);
  });
  afterAll(async () => {
    await es?.close();
    await dropSchema(schema);
  });

  it('runs application migrations with the store and counts them in pending migrations', async () => {
    const [{ name }] = await es.db.query<any>(`SELECT name FROM "${schema}".event_store_migrations ORDER BY id DESC LIMIT 1`);
    expect(name).toBe('CreateAuditRows1800000000001');
    expect(await es.pendingMigrations()).toBe(false);
  });

  it('commits the hook rows with the events, after the append', async () => {
    const counter = new Counter(randomUUID());
    counter.add(2);
    const result = await repository.save(counter, {}, { within: audit(counter.streamId) });
    expect(await auditRows(counter.streamId)).toEqual([result.position]);
    expect(await es.store.streamVersion(counter.streamId)).toBe(1);
  });

  it('rolls the events back when the hook throws', async () => {
    const counter = new Counter(randomUUID());
    counter.add(1);
    const failing = async (q: Queryable) => {
      await audit(counter.streamId)(q, { position: -1 });
      throw new Error('refused by the application');
    };
    await expect(repository.save(counter, {}, { within: failing })).rejects.toThrow('refused by the application');
    expect(await es.store.streamVersion(counter.streamId)).toBe(0);
    expect(await auditRows(counter.streamId)).toEqual([]);
  });

  it('update retries a conflict in a fresh transaction and runs the hook once, for the append that committed', async () => {
    const id = randomUUID();
    const first = new Counter(id);
    first.add(1);
    await repository.save(first);
    let hookRuns = 0;
    let attempts = 0;
    const saved = await repository.update(
      () => new Counter(id),
      `counter-${id}`,
      (c) => {
        // The first attempt acts on a stale load (as if another writer appended after it): its append conflicts.
        if (++attempts === 1) c.version -= 1;
        c.add(5);
      },
      {
        attempts: 5,
        within: async (q, r) => {
          hookRuns++;
          await audit(`counter-${id}`)(q, r);
        },
      },
    );
    expect(attempts).toBe(2);
    expect(saved?.aggregate.total).toBe(6);
    expect(hookRuns).toBe(1);
    expect(await auditRows(`counter-${id}`)).toEqual([saved!.result.position]);
  });
});
