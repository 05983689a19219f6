import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '../../../test/eventually';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '@app/event-store/testing';
import { TEST_REDIS_URL } from '@app/stampede-cache/testing';
import type { ExportedSpan } from './tracing/file-span-exporter';
import { TEST_ADMIN_TOKEN } from './test-app';
import { StreamReader, TEST_NATS_URL, uniqueNatsNames } from './test-nats';

/**
 * One request's trace, from HTTP through the append to the projections and the cache, as the
 * OpenTelemetry SDK exports it. The auto-instrumentation cannot patch modules inside Jest's module
 * registry, so the app runs traced in a child process (traced-app.ts) that writes its spans to a file.
 */
describe('traces (e2e, child process with the OpenTelemetry SDK)', () => {
  const schema = uniqueSchema('traces');
  const nats = uniqueNatsNames('traces');
  const dir = mkdtempSync(join(tmpdir(), 'traces-'));
  const spanFile = join(dir, 'spans.ndjson');
  let child: ChildProcess;
  let url: string;

  const spans = (): ExportedSpan[] =>
    existsSync(spanFile)
      ? readFileSync(spanFile, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as ExportedSpan)
      : [];

  beforeAll(async () => {
    child = fork(join(__dirname, 'tracing/traced-app.ts'), [], {
      execArgv: ['-r', '@swc-node/register'],
      env: {
        ...process.env,
        SPAN_FILE: spanFile,
        DATABASE_URL: TEST_DATABASE_URL,
        REDIS_URL: TEST_REDIS_URL,
        EVENT_STORE_SCHEMA: schema,
        CACHE_NAMESPACE: `traces${randomBytes(4).toString('hex')}`,
        ADMIN_TOKEN: TEST_ADMIN_TOKEN,
        LOG_LEVEL: 'warn',
        // The relay publishes to NATS, each publish in a span under the append (a stream of this run's own).
        NATS_URL: TEST_NATS_URL,
        NATS_STREAM: nats.stream,
        NATS_NAMESPACE: nats.namespace,
      },
    });
    url = await new Promise<string>((resolve, reject) => {
      child.once('message', (m: { url: string }) => resolve(m.url));
      child.once('exit', (code) => reject(new Error(`traced app exited with ${code}`)));
    });
  }, 60_000);

  afterAll(async () => {
    if (child?.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.send('stop');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    await dropSchema(schema);
    await (await StreamReader.open(nats.stream)).deleteAndClose();
    rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it('covers request -> append -> projection apply and relay publish, and request -> cache read -> factory', async () => {
    const traceId = randomBytes(16).toString('hex');
    const callerSpanId = randomBytes(8).toString('hex');
    const traceparent = `00-${traceId}-${callerSpanId}-01`;
    const created = await fetch(`${url}/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent, 'x-request-id': 'traced-1' },
      body: JSON.stringify({ firstName: 'Ada', lastName: 'Lovelace', email: `ada.${randomUUID()}@example.com` }),
    });
    expect(created.status).toBe(201);
    const { id, position } = (await created.json()) as { id: string; position: number };

    const inTrace = () => spans().filter((s) => s.traceId === traceId);
    const applied: ExportedSpan[] = await eventually(
      () =>
        ['user_profiles', 'points_ledger'].every((p) => inTrace().some((s) => s.name === `projection.apply ${p}`)) ? inTrace() : undefined,
      15_000,
      'a projection.apply span per projection in the request trace',
    );
    const byId = new Map(applied.map((s) => [s.spanId, s]));
    const server = applied.find((s) => s.parentSpanId === callerSpanId)!;
    expect(server).toMatchObject({ kind: 1 }); // SERVER, the caller's span as its parent
    const ancestors = (s: ExportedSpan): string[] => {
      const parent = s.parentSpanId && byId.get(s.parentSpanId);
      return parent ? [parent.name, ...ancestors(parent)] : [];
    };
    const append = applied.find((s) => s.name === 'event_store.append')!;
    expect(append.attributes['event_store.stream_id']).toBe(`user-${id}`);
    expect(ancestors(append)).toContain(server.name);
    expect(applied.some((s) => s.attributes['db.system.name'] === 'postgresql' || s.attributes['db.system'] === 'postgresql')).toBe(true);
    for (const projection of ['user_profiles', 'points_ledger']) {
      const apply = applied.find((s) => s.name === `projection.apply ${projection}`)!;
      expect(apply.parentSpanId).toBe(append.spanId);
      expect(apply.attributes).toMatchObject({ 'event_store.position': position, 'event.type': 'UserRegistered' });
      const batch = spans().find((s) => s.name === `projection.batch ${projection}` && s.links.some((l) => l.spanId === append.spanId));
      expect(batch).toBeDefined();
    }

    // The relay's publish of the event is a child of the append too, and the message carries the append's context.
    const publish = await eventually(
      () => spans().find((s) => s.traceId === traceId && s.name === 'relay.publish UserRegistered'),
      15_000,
      'a relay.publish span in the request trace',
    );
    expect(publish).toMatchObject({ parentSpanId: append.spanId, kind: 3 }); // PRODUCER
    expect(publish.attributes['event_store.position']).toBe(position);

    // The stored event carries the append's trace context.
    const stored = await fetch(`${url}/admin/streams/user-${id}/events`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
    const { events } = (await stored.json()) as { events: Array<{ metadata: Record<string, string> }> };
    expect(events[0].metadata.traceparent).toBe(`00-${traceId}-${append.spanId}-01`);

    // A read: a miss computes (factory span under the cache read), the next read hits.
    const readTrace = randomBytes(16).toString('hex');
    for (const expected of ['miss', 'hit']) {
      const res = await fetch(`${url}/users/${id}`, {
        headers: { traceparent: `00-${readTrace}-${randomBytes(8).toString('hex')}-01`, 'x-min-position': String(position) },
      });
      expect(res.status).toBe(200);
      await eventually(
        () => spans().some((s) => s.traceId === readTrace && s.name === 'cache.get' && s.attributes['cache.result'] === expected),
        5000,
        `a cache.get span with cache.result ${expected}`,
      );
    }
    const read = spans().filter((s) => s.traceId === readTrace);
    const miss = read.find((s) => s.name === 'cache.get' && s.attributes['cache.result'] === 'miss')!;
    expect(read.find((s) => s.name === 'cache.compute')?.parentSpanId).toBe(miss.spanId);
    expect(read.some((s) => s.attributes['db.system'] === 'redis' || s.attributes['db.system.name'] === 'redis')).toBe(true);
  }, 60_000);
});
