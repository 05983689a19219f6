/**
 * What tracing costs on the HTTP hot path: requests/s of the service's cached read
 * (GET /users/:id, an L1 hit) with tracing off (OTEL_EXPORTER_OTLP_ENDPOINT unset: the SDK is not
 * loaded, spans are @opentelemetry/api no-ops) and on (SDK with the HTTP, pg and ioredis
 * instrumentations, every span exported over OTLP/HTTP to a local sink that answers 200).
 * Both instances run at once (each on a schema of its own); loads alternate, ratio per round.
 *   npm run bench:tracing     (CONNECTIONS=20 DURATION_S=5 ROUNDS=3; LOG_LEVEL=warn for both)
 * Writes <BENCH_OUT or docs/benchmarks>/tracing-http.json.
 */
import autocannon from 'autocannon';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { benchOutDir, environment } from './bench-env';
import { forkInstance, stopInstance } from './app-instances';
import { median } from './measure';
import { dropSchema, TEST_DATABASE_URL } from '@app/event-store/testing';
import { TEST_REDIS_URL } from '@app/stampede-cache/testing';

const CONNECTIONS = Number(process.env.CONNECTIONS ?? 20);
const DURATION_S = Number(process.env.DURATION_S ?? 5);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const DATABASE_URL = process.env.DATABASE_URL ?? TEST_DATABASE_URL;
const REDIS_URL = process.env.REDIS_URL ?? TEST_REDIS_URL;
const progress = (s: string) => process.stderr.write(`  ${s}\n`);

/** An OTLP/HTTP endpoint that accepts and drops every export, counting them. */
async function startSink(): Promise<{ url: string; exports: () => number; stop: () => Promise<void> }> {
  let exports = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      exports++;
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    exports: () => exports,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Registers a user and reads it until the read model has it; returns the path of the cached read. */
async function seed(url: string): Promise<string> {
  const created = await fetch(`${url}/users`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ firstName: 'Ada', lastName: 'Lovelace', email: `ada.${randomUUID()}@example.com` }),
  });
  const { id, position } = (await created.json()) as { id: string; position: number };
  const read = await fetch(`${url}/users/${id}`, { headers: { 'x-min-position': String(position) } });
  if (read.status !== 200) throw new Error(`seed read: ${read.status}`);
  return `/users/${id}`;
}

async function load(url: string, path: string): Promise<{ requestsPerSec: number; p99Ms: number; non2xx: number }> {
  const r = await autocannon({ url: url + path, connections: CONNECTIONS, duration: DURATION_S });
  return { requestsPerSec: r.requests.average, p99Ms: r.latency.p99, non2xx: r.non2xx + r.errors };
}

async function main(): Promise<void> {
  const sink = await startSink();
  const run = randomBytes(4).toString('hex');
  const schemas = { off: `bench_trace_off_${run}`, on: `bench_trace_on_${run}` };
  // A loaded machine can take seconds to project the seed user: the seed read waits up to 30 s for it.
  const base = { DATABASE_URL, REDIS_URL, LOG_LEVEL: 'warn', RUN_PROJECTIONS: 'true', READ_YOUR_WRITES_TIMEOUT_MS: '30000' };
  const [off, on] = await Promise.all([
    forkInstance(join(__dirname, 'peers/api-instance.ts'), { ...base, EVENT_STORE_SCHEMA: schemas.off, CACHE_NAMESPACE: `bto${run}` }),
    forkInstance(join(__dirname, 'peers/api-instance.ts'), {
      ...base,
      EVENT_STORE_SCHEMA: schemas.on,
      CACHE_NAMESPACE: `btn${run}`,
      OTEL_EXPORTER_OTLP_ENDPOINT: sink.url,
      OTEL_SERVICE_NAME: 'bench-tracing',
    }),
  ]);
  const runs: Record<'off' | 'on', Array<Awaited<ReturnType<typeof load>>>> = { off: [], on: [] };
  try {
    const paths = { off: await seed(off.url), on: await seed(on.url) };
    for (let round = 1; round <= ROUNDS; round++) {
      for (const mode of ['off', 'on'] as const) {
        const r = await load(mode === 'off' ? off.url : on.url, paths[mode]);
        runs[mode].push(r);
        progress(`round ${round}/${ROUNDS} tracing ${mode.padEnd(3)} ${r.requestsPerSec.toFixed(0)} req/s, p99 ${r.p99Ms} ms`);
      }
    }
  } finally {
    await Promise.all([stopInstance(off.child), stopInstance(on.child)]);
    await sink.stop();
    for (const schema of Object.values(schemas)) await dropSchema(schema, DATABASE_URL);
  }
  const ratioOnToOff = median(runs.on.map((r, i) => r.requestsPerSec / runs.off[i].requestsPerSec));
  const summary = {
    off: median(runs.off.map((r) => r.requestsPerSec)),
    on: median(runs.on.map((r) => r.requestsPerSec)),
    ratioOnToOff,
    otlpExports: sink.exports(),
  };
  console.log(
    `\nHTTP hot path (GET /users/:id, cache hit), ${CONNECTIONS} connections, ${DURATION_S} s per load, medians of ${ROUNDS} rounds\n` +
      `  tracing off ${summary.off.toFixed(0).padStart(7)} req/s\n` +
      `  tracing on  ${summary.on.toFixed(0).padStart(7)} req/s   ${ratioOnToOff.toFixed(2)}x off (same-round ratio; ${summary.otlpExports} OTLP exports)`,
  );
  writeFileSync(
    join(benchOutDir(), 'tracing-http.json'),
    JSON.stringify(
      {
        date: new Date().toISOString(),
        command: 'npm run bench:tracing',
        ...environment(),
        config: { connections: CONNECTIONS, durationS: DURATION_S, rounds: ROUNDS },
        ...summary,
        perRound: runs,
      },
      null,
      2,
    ) + '\n',
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
