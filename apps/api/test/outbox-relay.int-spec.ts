import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { eventually } from '../../../test/eventually';
import { TcpProxy } from '../../../test/tcp-proxy';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '@app/event-store/testing';
import { appendUserHistories, deliveryReport, openRelay, type RelayHarness } from './relay-fixtures';
import { StreamReader, TEST_NATS_URL, uniqueNatsNames } from './test-nats';

const REPO_ROOT = join(__dirname, '..', '..', '..');
const CHILD_SCRIPT = join(__dirname, 'relay-child.ts');
const LOCK_BOUND_MS = 2_000;
const POLL_MS = 50;

/**
 * The log as the outbox, on real PostgreSQL and a real NATS JetStream: every event of a published
 * type reaches the stream once by event id, in position order (so in order per stream), across a
 * relay SIGKILLed mid-batch, a NATS outage, and a standby taking over from a frozen holder.
 */
describe('outbox relay to NATS JetStream', () => {
  const open: RelayHarness[] = [];
  const readers: StreamReader[] = [];
  const schemas: string[] = [];
  const children = new Set<ChildProcess>();
  const proxies: TcpProxy[] = [];
  const fresh = async (prefix: string) => {
    const schema = uniqueSchema(`es_relay_${prefix}`);
    schemas.push(schema);
    const names = uniqueNatsNames(`relay_${prefix}`);
    const reader = await StreamReader.open(names.stream);
    readers.push(reader);
    return { schema, ...names, reader };
  };
  const harness = async (...args: Parameters<typeof openRelay>) => {
    const h = await openRelay(...args);
    open.push(h);
    return h;
  };

  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    for (const proxy of proxies) proxy.thaw();
    await Promise.all(open.map((h) => h.close()));
    await Promise.all(proxies.map((p) => p.cut()));
    await Promise.all(readers.map((r) => r.deleteAndClose()));
    for (const schema of schemas) await dropSchema(schema);
  });

  it('publishes every event once, in order, across a relay SIGKILLed mid-batch four times and restarted', async () => {
    const t = await fresh('crash');
    const writer = await harness({ dbUrl: TEST_DATABASE_URL, natsUrl: TEST_NATS_URL, ...t });
    const total = await appendUserHistories(writer.handle, 60, 20);
    const run = (crashAfter: number) => {
      const child = spawn(process.execPath, ['-r', '@swc-node/register', CHILD_SCRIPT], {
        cwd: REPO_ROOT,
        env: {
          ...process.env,
          RELAY_SCHEMA: t.schema,
          RELAY_STREAM: t.stream,
          RELAY_NAMESPACE: t.namespace,
          RELAY_CRASH_AFTER: String(crashAfter),
          RELAY_BATCH_SIZE: '100',
        },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      children.add(child);
      const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
      void exited.then(() => children.delete(child));
      return { child, exited, stderr: () => stderr };
    };
    const checkpoint = async () => (await writer.relay.status()).checkpoint;
    const kills: Array<{ checkpoint: number; streamLast: number }> = [];
    for (let k = 0; k < 4; k++) {
      // Each run crashes after its 250th ack: 50 events into its third batch of 100, before that checkpoint.
      const r = run(250);
      expect(await r.exited).toBe('SIGKILL');
      kills.push({ checkpoint: await checkpoint(), streamLast: (await writer.publisher.lastPublished()).position });
    }
    const last = run(0);
    await eventually(async () => (await t.reader.count()) === total, 60_000, `all ${total} events in the stream`);
    await eventually(async () => (await checkpoint()) === (await writer.handle.store.headPosition()), 20_000, 'the checkpoint at the head');
    last.child.kill('SIGTERM');
    await last.exited;
    process.stdout.write(`relay crash test: ${JSON.stringify(kills)}, total ${total}\n`);

    // Every kill left events published beyond the checkpoint (mid-batch); the next run did not send them again.
    for (const kill of kills) expect(kill.streamLast).toBeGreaterThan(kill.checkpoint);
    const messages = await t.reader.all();
    expect(messages).toHaveLength(total);
    expect(deliveryReport(messages)).toEqual({ ids: total, duplicates: 0, outOfOrder: 0, behindPosition: 0 });
  }, 180_000);

  it('loses nothing while NATS is away, and appends keep answering', async () => {
    const t = await fresh('outage');
    const proxy = new TcpProxy('127.0.0.1', Number(new URL(TEST_NATS_URL).port || 4222));
    proxies.push(proxy);
    await proxy.start();
    let errors = 0;
    const h = await harness(
      { dbUrl: TEST_DATABASE_URL, natsUrl: `nats://127.0.0.1:${proxy.port}`, ...t },
      { onPublishError: () => errors++ },
    );
    await h.relay.start();
    const first = await appendUserHistories(h.handle, 20, 5, 'before');
    await eventually(async () => (await t.reader.count()) === first, 20_000, 'the first events published');

    await proxy.cut();
    const startedAt = Date.now();
    const during = await appendUserHistories(h.handle, 20, 5, 'during');
    const appendMs = Date.now() - startedAt;
    await eventually(() => errors >= 2, 20_000, 'the relay to fail and retry while NATS is away');
    expect(await t.reader.count()).toBe(first);
    expect((await h.relay.status()).lagPositions).toBeGreaterThan(0);
    await proxy.restore();

    await eventually(async () => (await t.reader.count()) === first + during, 30_000, 'every event after the outage');
    const messages = await t.reader.all();
    expect(deliveryReport(messages)).toEqual({ ids: first + during, duplicates: 0, outOfOrder: 0, behindPosition: 0 });
    process.stdout.write(`relay outage: ${during} appends took ${appendMs} ms while NATS was cut; ${errors} failed attempts\n`);
  }, 90_000);

  it('a standby relay takes over from a frozen holder within the lock bound, and nothing is published twice', async () => {
    const t = await fresh('takeover');
    const db = new URL(TEST_DATABASE_URL);
    const proxy = new TcpProxy(db.hostname, Number(db.port || 5432));
    proxies.push(proxy);
    await proxy.start();
    const viaProxy = new URL(TEST_DATABASE_URL);
    viaProxy.host = `127.0.0.1:${proxy.port}`;
    const a = await harness({ dbUrl: viaProxy.toString(), natsUrl: TEST_NATS_URL, ...t, lockTimeoutMs: LOCK_BOUND_MS });
    const b = await harness({ dbUrl: TEST_DATABASE_URL, natsUrl: TEST_NATS_URL, ...t, lockTimeoutMs: LOCK_BOUND_MS });
    await a.relay.start();
    await eventually(async () => (await a.relay.status()).activeHere, 5_000, 'a to take the relay lock');
    await b.relay.start();
    const first = await appendUserHistories(b.handle, 20, 5, 'a');
    await eventually(async () => (await t.reader.count()) === first, 20_000, 'a to publish');
    expect((await b.relay.status()).activeHere).toBe(false);

    proxy.freeze();
    const frozenAt = Date.now();
    const second = await appendUserHistories(b.handle, 20, 5, 'b');
    await eventually(async () => (await b.relay.status()).activeHere, LOCK_BOUND_MS * 5, 'b to take over', { everyMs: 10 });
    const takeoverMs = Date.now() - frozenAt;
    await eventually(async () => (await t.reader.count()) === first + second, 20_000, 'b to publish the rest');
    process.stdout.write(`relay takeover after ${takeoverMs} ms (bound ${LOCK_BOUND_MS} ms, poll ${POLL_MS} ms)\n`);
    expect(takeoverMs).toBeLessThan(LOCK_BOUND_MS + 2 * POLL_MS + 1_500);
    proxy.thaw();
    expect(deliveryReport(await t.reader.all())).toEqual({ ids: first + second, duplicates: 0, outOfOrder: 0, behindPosition: 0 });
  }, 90_000);
});
