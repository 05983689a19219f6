import { createEventStore, type EventStoreHandle } from '@app/event-store';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '@app/event-store/testing';
import { loadConfig } from '../config/app-config';
import { appMigrations } from '../migrations';
import { userEvents } from '../users/events';
import { IdempotencyClaimLostError, IdempotencyStore, type StoredResponse } from './idempotency.store';

const ok: StoredResponse = { status: 201, headers: { ETag: '"1"' }, body: { id: 'u1', version: 1, position: 1 } };

/**
 * The key lifecycle on the real PostgreSQL. Time passing (a lease or a TTL running out)
 * is simulated by moving the row's deadlines into the past, so nothing waits on a clock.
 */
describe('IdempotencyStore', () => {
  const schema = uniqueSchema('idem');
  let es: EventStoreHandle;
  let store: IdempotencyStore;
  let n = 0;
  const key = () => `key-${++n}`;
  const expire = (k: string, column: 'locked_until' | 'expires_at') =>
    es.db.query(`UPDATE "${schema}".idempotency_keys SET ${column} = now() - interval '1 second' WHERE key = $1`, [k]);
  const row = async (k: string) => (await es.db.query<any>(`SELECT * FROM "${schema}".idempotency_keys WHERE key = $1`, [k]))[0];

  beforeAll(async () => {
    es = await createEventStore({ url: TEST_DATABASE_URL, schema, events: userEvents, migrations: appMigrations });
    store = new IdempotencyStore(es, loadConfig({ IDEMPOTENCY_TTL_MS: '120000' }));
  });
  afterAll(async () => {
    await es?.close();
    await dropSchema(schema);
  });

  it('claims a new key once; a repeat is in progress, then replays the completed response', async () => {
    const k = key();
    const first = await store.claim('POST /users', k, 'fp');
    expect(first.kind).toBe('claimed');
    expect(await store.claim('POST /users', k, 'fp')).toEqual({ kind: 'in-progress' });
    if (first.kind !== 'claimed') return;
    await es.store.inTransaction((q) => store.complete(q, first.claim, ok));
    expect(await store.claim('POST /users', k, 'fp')).toEqual({ kind: 'replay', response: ok });
    expect(await store.claim('POST /users', k, 'other')).toEqual({ kind: 'key-reused' });
  });

  it('scopes keys by route template and keeps them IDEMPOTENCY_TTL_MS', async () => {
    const k = key();
    expect((await store.claim('POST /users', k, 'fp')).kind).toBe('claimed');
    expect((await store.claim('POST /users/:id/points', k, 'fp2')).kind).toBe('claimed');
    const { ttl } = (
      await es.db.query<{ ttl: string }>(
        `SELECT extract(epoch FROM expires_at - created_at) * 1000 AS ttl FROM "${schema}".idempotency_keys WHERE key = $1 LIMIT 1`,
        [k],
      )
    )[0];
    expect(Number(ttl)).toBe(120_000);
  });

  it('lets a retry take over a key whose holder vanished (lease over); the old holder is fenced off', async () => {
    const k = key();
    const crashed = await store.claim('POST /users', k, 'fp');
    await expire(k, 'locked_until');
    expect(await store.claim('POST /users', k, 'another request')).toEqual({ kind: 'key-reused' });
    const retry = await store.claim('POST /users', k, 'fp');
    expect(retry.kind).toBe('claimed');
    if (crashed.kind !== 'claimed' || retry.kind !== 'claimed') return;
    // The old holder wakes up: its outcome cannot be recorded, and the transaction carrying it rolls back.
    await expect(
      es.store.inTransaction(async (q) => {
        await q.query(`CREATE TABLE "${schema}".rolled_back_marker (x int)`);
        await store.complete(q, crashed.claim, ok);
      }),
    ).rejects.toBeInstanceOf(IdempotencyClaimLostError);
    expect(await es.db.query(`SELECT to_regclass('"${schema}".rolled_back_marker') AS t`)).toEqual([{ t: null }]);
    expect(await store.completeAlone(crashed.claim, ok)).toBe(false);
    expect(await store.completeAlone(retry.claim, ok)).toBe(true);
    expect(await store.claim('POST /users', k, 'fp')).toEqual({ kind: 'replay', response: ok });
  });

  it('treats an expired key as new, whatever request it held', async () => {
    const k = key();
    const first = await store.claim('POST /users', k, 'fp');
    if (first.kind === 'claimed') await store.completeAlone(first.claim, ok);
    await expire(k, 'expires_at');
    expect((await store.claim('POST /users', k, 'a different request')).kind).toBe('claimed');
    expect((await row(k)).fingerprint).toBe('a different request');
  });

  it('releases a key after a 5xx so a retry runs again, but never a completed one', async () => {
    const k = key();
    const first = await store.claim('POST /users', k, 'fp');
    if (first.kind !== 'claimed') throw new Error('not claimed');
    await store.release(first.claim);
    expect(await row(k)).toBeUndefined();
    const second = await store.claim('POST /users', k, 'fp');
    if (second.kind !== 'claimed') throw new Error('not claimed');
    await store.completeAlone(second.claim, ok);
    await store.release(second.claim);
    expect((await row(k)).state).toBe('completed');
  });

  it('of concurrent claims of one key, exactly one wins', async () => {
    const k = key();
    const outcomes = await Promise.all(Array.from({ length: 20 }, () => store.claim('POST /users', k, 'fp')));
    expect(outcomes.filter((o) => o.kind === 'claimed')).toHaveLength(1);
    expect(outcomes.filter((o) => o.kind === 'in-progress')).toHaveLength(19);
  });

  it('sweeps expired keys only', async () => {
    const [live, dead] = [key(), key()];
    await store.claim('POST /users', live, 'fp');
    await store.claim('POST /users', dead, 'fp');
    await expire(dead, 'expires_at');
    expect(await store.sweep()).toBeGreaterThanOrEqual(1);
    expect(await row(dead)).toBeUndefined();
    expect(await row(live)).toBeDefined();
  });
});
