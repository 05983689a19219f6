import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { eventually } from '../../../../test/eventually';
import { TcpProxy } from '../../../../test/tcp-proxy';
import { createEventStore, EventStoreHandle } from '../create-event-store';
import { AppendListener } from '../projections/append-listener';
import { note, notedEvents as events } from '../testing/noted-events';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '../testing/test-database';
import { NOTIFY_BOUND_MS } from './pool-timeouts';

const STATEMENT_TIMEOUT_MS = 1_000;
/** The client-side bound for that statement timeout (`clientBoundMs`). */
const CLIENT_BOUND_MS = 2_000;
/** Slack for a busy 2-core machine on top of each bound. */
const SLACK_MS = 2_000;

/** True when every pooled connection is idle (the post-commit NOTIFY has its answer). */
function idle(es: EventStoreHandle): boolean {
  const pool = es.poolStats();
  return pool.total > 0 && pool.idle === pool.total && pool.waiting === 0;
}

/** `work`'s outcome and how long it took, or 'hung' once `limitMs` passed (the old code's behaviour: it never settles). */
async function timed<T>(work: Promise<T>, limitMs: number): Promise<{ ms: number; outcome: T | Error | 'hung' }> {
  const start = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<'hung'>((resolve) => (timer = setTimeout(() => resolve('hung'), limitMs)));
  const outcome = await Promise.race([work.catch((e: Error) => e), hung]);
  clearTimeout(timer);
  return { ms: Date.now() - start, outcome };
}

/**
 * No request hangs on a link that went silent (the proxy forwards nothing,
 * closes nothing, so TCP alone notices nothing): statements, the post-commit
 * NOTIFY, the LISTEN connection and shutdown each give up within a stated bound.
 */
describe('a frozen link to PostgreSQL', () => {
  const schema = uniqueSchema('es_frozen');
  const channel = `ch_${schema}`;
  const target = new URL(TEST_DATABASE_URL);
  const proxy = new TcpProxy(target.hostname, Number(target.port || 5432));
  const viaProxy = () => Object.assign(new URL(TEST_DATABASE_URL), { host: `127.0.0.1:${proxy.port}` }).toString();
  let es: EventStoreHandle | undefined;

  beforeAll(async () => {
    await proxy.start();
    es = await createEventStore({
      url: viaProxy(),
      schema,
      events,
      poolSize: 3,
      notifyChannel: channel,
      statementTimeoutMs: STATEMENT_TIMEOUT_MS,
      shutdownTimeoutMs: 1_000,
    });
  }, 30_000);
  afterEach(() => proxy.thaw());
  afterAll(async () => {
    proxy.thaw();
    await es?.close();
    await proxy.cut();
    await dropSchema(schema);
  });

  it('an append fails with EVENT_STORE.TIMEOUT within the client-side bound, and the pool recovers after', async () => {
    const stream = `frozen-${randomUUID()}`;
    await es!.store.appendToStream(stream, [note(1)]);
    // The append must meet a pooled connection on the frozen link, not open a new one (that is the connect timeout's case).
    await eventually(() => idle(es!), 5_000, 'the pool to be idle');
    proxy.freeze();
    const { ms, outcome } = await timed(es!.store.appendToStream(stream, [note(2)]), 15_000);
    process.stdout.write(`append on a frozen link failed after ${ms} ms (statement_timeout ${STATEMENT_TIMEOUT_MS} ms)\n`);
    expect(outcome).toMatchObject({ code: 'EVENT_STORE.TIMEOUT', kind: 'no-answer' });
    expect(ms).toBeGreaterThanOrEqual(CLIENT_BOUND_MS - 50);
    expect(ms).toBeLessThan(CLIENT_BOUND_MS + SLACK_MS);
    proxy.thaw();
    // The dropped connection is not reused: the retry (same stream, 'any') goes through on a sound one.
    await expect(es!.store.appendToStream(stream, [note(3)])).resolves.toMatchObject({ written: true });
  }, 30_000);

  it('a NOTIFY frozen on its connection does not hold back the notifications after it', async () => {
    const listener = new Client({ connectionString: TEST_DATABASE_URL });
    await listener.connect();
    let heard = 0;
    const wakers = new Set<() => void>();
    listener.on('notification', (n) => {
      heard = Math.max(heard, Number(n.payload));
      for (const wake of wakers) wake();
    });
    const hears = (position: number, timeoutMs: number, what: string) =>
      eventually(() => heard >= position, timeoutMs, what, { wakeOn: (wake) => (wakers.add(wake), () => wakers.delete(wake)) });
    try {
      await listener.query(`LISTEN "${channel}"`);
      const first = await es!.store.appendToStream(`n-${randomUUID()}`, [note(1)]);
      await hears(first.position, 5_000, 'the first notification');
      proxy.freezeLinkOn('pg_notify');
      const second = await es!.store.appendToStream(`n-${randomUUID()}`, [note(2)]);
      const third = await es!.store.appendToStream(`n-${randomUUID()}`, [note(3)]);
      expect(third.position).toBeGreaterThan(second.position);
      const start = Date.now();
      await hears(third.position, NOTIFY_BOUND_MS + SLACK_MS, 'the notification after the frozen one');
      process.stdout.write(`notification after a frozen NOTIFY heard after ${Date.now() - start} ms (bound ${NOTIFY_BOUND_MS} ms)\n`);
    } finally {
      await listener.end();
    }
  }, 30_000);

  it('the LISTEN connection notices a frozen link by its ping, and listens again on a fresh connection', async () => {
    let heard = 0;
    const listener = new AppendListener(viaProxy(), channel, () => heard++, { pingEveryMs: 200, answerWithinMs: 500 });
    const notifier = new Client({ connectionString: TEST_DATABASE_URL });
    await notifier.connect();
    try {
      await listener.start();
      await notifier.query(`NOTIFY "${channel}"`);
      await eventually(() => heard > 0, 5_000, 'the first notification');
      // The next notification freezes the listener's link alone; new connections still work.
      proxy.freezeLinkOn(channel);
      await notifier.query(`NOTIFY "${channel}"`);
      const before = heard;
      await eventually(
        async () => {
          await notifier.query(`NOTIFY "${channel}"`);
          return heard > before;
        },
        5_000,
        'a notification over a fresh connection',
        { everyMs: 100 },
      );
    } finally {
      await listener.stop();
      await notifier.end();
    }
  }, 30_000);

  it('shutdown ends within shutdownTimeoutMs with a statement hanging on the frozen link', async () => {
    const other = await createEventStore({ url: viaProxy(), schema, events, poolSize: 2, statementTimeoutMs: 0, shutdownTimeoutMs: 1_000 });
    await other.store.appendToStream(`s-${randomUUID()}`, [note(1)]);
    proxy.freeze();
    // Without a statement timeout there is no client-side bound: only shutdown can end this one.
    const hanging = other.store.appendToStream(`s-${randomUUID()}`, [note(2)]).catch((e: Error) => e);
    const { ms, outcome } = await timed(other.close(), 15_000);
    process.stdout.write(`shutdown on a frozen link took ${ms} ms (shutdownTimeoutMs 1000)\n`);
    expect(outcome).toBeUndefined();
    expect(ms).toBeLessThan(1_000 + SLACK_MS);
    expect(await timed(hanging, 2_000)).toMatchObject({ outcome: expect.any(Error) });
  }, 30_000);
});
