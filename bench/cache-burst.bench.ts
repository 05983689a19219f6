/**
 * Cache burst benchmark: BURST concurrent GET /leaderboard/trending right after the
 * cached value expires, split across INSTANCES app processes sharing one Redis and one
 * PostgreSQL, against a baseline measured in the same run on the same processes.
 *   npm run bench:cache      (BURST=2000 INSTANCES=2 ROUNDS=3 TTL_MS=5000 COMPUTE_MS=200)
 * Baseline: the naive get -> miss -> compute -> set pattern (what @nestjs/cache-manager's
 * CacheInterceptor does), mounted as a bare Express route in each app process: the very
 * same aggregation (the app's own handler, same pool, same COMPUTE_MS pad) behind a plain
 * Redis GET / SET PX. Prints figures and ratios, writes <BENCH_OUT or docs/benchmarks>/cache-burst.{json,svg}.
 */
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { Agent, get as httpGet } from 'node:http';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Express, Response as ExpressResponse } from 'express';
import Redis from 'ioredis';
import { createApp } from '../apps/api/src/bootstrap';
import { loadConfig } from '../apps/api/src/config/app-config';
import { GetTrendingHandler } from '../apps/api/src/leaderboard/queries/get-trending/get-trending.handler';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '@app/event-store/testing';
import { TEST_REDIS_URL } from '@app/stampede-cache/testing';
import { forkInstance, serveParent, stopInstance } from './app-instances';
import { benchOutDir, BENCH_PII_MASTER_KEY } from './bench-env';
import { writeBarChart } from './chart';

const DATABASE_URL = process.env.DATABASE_URL ?? TEST_DATABASE_URL;
const REDIS_URL = process.env.REDIS_URL ?? TEST_REDIS_URL;
const BURST = Number(process.env.BURST ?? 2000);
const INSTANCES = Number(process.env.INSTANCES ?? 2);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
// 5 s keeps XFetch early refreshes out of a burst lasting ~2 s (chance exp(-3000/200) per read).
const TTL_MS = Number(process.env.TTL_MS ?? 5000);
const COMPUTE_MS = Number(process.env.COMPUTE_MS ?? 200);
const PATH = '/leaderboard/trending?window=24h&limit=10';
const progress = (s: string) => process.stderr.write(`  ${s}\n`);

interface Sample {
  status: number;
  ms: number;
  cache: string;
}
interface Scenario {
  name: string;
  /** The burst's URL on each instance. */
  urls: string[];
  /** Computations so far, across instances. */
  computations(): Promise<number>;
  /** When the cached value expires (epoch ms), after a read that makes sure one exists. */
  expiresAt(): Promise<number>;
}

/** One GET on a keep-alive agent: status, X-Cache and latency to the last body byte. */
function request(url: string, agent: Agent): Promise<Sample> {
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    httpGet(url, { agent }, (res) => {
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          cache: String(res.headers['x-cache'] ?? '-'),
          ms: Number(process.hrtime.bigint() - started) / 1e6,
        }),
      );
      res.resume();
    }).on('error', reject);
  });
}

/** Waits for the value's expiry with BURST sockets already open, then fires the burst. */
async function burst(scenario: Scenario): Promise<{ samples: Sample[]; computations: number; afterExpiryMs: number }> {
  const expiresAt = await scenario.expiresAt();
  const agent = new Agent({ keepAlive: true, maxSockets: Math.ceil(BURST / INSTANCES) });
  try {
    // Open the sockets shortly before expiry (servers drop idle ones after 5 s) so the burst measures requests, not TCP handshakes.
    await sleep(Math.max(0, expiresAt - 2_500 - Date.now()));
    await Promise.all(Array.from({ length: BURST }, (_, i) => request(new URL('/health/live', scenario.urls[i % INSTANCES]).href, agent)));
    await sleep(Math.max(0, expiresAt + 50 - Date.now()));
    const before = await scenario.computations();
    const afterExpiryMs = Date.now() - expiresAt;
    const samples = await Promise.all(Array.from({ length: BURST }, (_, i) => request(scenario.urls[i % INSTANCES], agent)));
    return { samples, computations: (await scenario.computations()) - before, afterExpiryMs };
  } finally {
    agent.destroy();
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function summarise(rounds: Array<Awaited<ReturnType<typeof burst>>>) {
  const all = rounds.flatMap((r) => r.samples);
  const ms = all.map((s) => s.ms).sort((a, b) => a - b);
  const count = (key: (s: Sample) => string) =>
    all.reduce<Record<string, number>>((m, s) => ({ ...m, [key(s)]: (m[key(s)] ?? 0) + 1 }), {});
  return {
    factoryRunsPerBurst: rounds.map((r) => r.computations),
    factoryRunsMean: rounds.reduce((sum, r) => sum + r.computations, 0) / rounds.length,
    latencyMs: { p50: percentile(ms, 50), p95: percentile(ms, 95), p99: percentile(ms, 99), max: ms[ms.length - 1] },
    perRound: rounds.map((r) => {
      const sorted = r.samples.map((s) => s.ms).sort((a, b) => a - b);
      return {
        factoryRuns: r.computations,
        startedAfterExpiryMs: r.afterExpiryMs,
        p50: percentile(sorted, 50),
        p99: percentile(sorted, 99),
      };
    }),
    statuses: count((s) => String(s.status)),
    xCache: count((s) => s.cache),
  };
}

const NAIVE_PATH = '/naive/leaderboard/trending';
const naiveKey = (namespace: string) => `${namespace}:naive:leaderboard.trending?limit=10&window=24h`;

/** Child process role: one app instance, plus the naive baseline route on the same Express server. */
async function runInstance(): Promise<void> {
  // The naive baseline is an Express route mounted beside the app's own: this bench runs the app on Express.
  const config = loadConfig({ ...process.env, PII_MASTER_KEY: BENCH_PII_MASTER_KEY, LOG_LEVEL: 'error', HTTP_ADAPTER: 'express' });
  const app = await createApp({ ...config, DATABASE_URL });
  const handler = app.get(GetTrendingHandler, { strict: false });
  const redis = new Redis(REDIS_URL);
  const key = naiveKey(config.CACHE_NAMESPACE);
  let computations = 0;
  // Registered before Nest's router (added at init), so these bypass only Nest's pipeline.
  const express = app.getHttpAdapter().getInstance() as Express;
  express.get('/naive/computations', (_req: unknown, res: ExpressResponse) => res.json({ computations }));
  express.get(NAIVE_PATH, async (_req: unknown, res: ExpressResponse) => {
    try {
      let body = await redis.get(key);
      res.setHeader('X-Cache', body ? 'HIT' : 'MISS');
      if (!body) {
        computations++;
        body = JSON.stringify(await handler['compute']('24h', 10)); // the handler's own aggregation and pad
        await redis.set(key, body, 'PX', TTL_MS);
      }
      res.type('json').send(body);
    } catch (error) {
      res.status(500).send(String(error));
    }
  });
  await app.listen(0, '127.0.0.1');
  serveParent(await app.getUrl(), async () => {
    await app.close();
    await redis.quit();
  });
}

async function seed(url: string): Promise<void> {
  const post = (path: string, body: object) =>
    fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then(
      async (r) => {
        if (r.status !== 201) throw new Error(`${path}: ${r.status} ${await r.text()}`);
        return (await r.json()) as { id: string; position: number };
      },
    );
  // 8 at a time, as the awards below: 50 at once queue past the pool's connect timeout (503) on a loaded machine.
  const users: Array<{ id: string; position: number }> = [];
  for (let i = 0; i < 50; i += 8) {
    const chunk = Array.from({ length: Math.min(8, 50 - i) }, (_, j) => i + j);
    users.push(
      ...(await Promise.all(chunk.map((n) => post('/users', { firstName: `User${n}`, lastName: 'Bench', email: `u${n}@example.com` })))),
    );
  }
  let position = 0;
  for (let i = 0; i < 200; i += 8) {
    const awards = await Promise.all(
      Array.from({ length: 8 }, (_, j) =>
        post(`/users/${users[(i + j) % users.length].id}/points`, { points: 1 + ((i + j) % 37), reason: 'bench' }),
      ),
    );
    position = Math.max(position, ...awards.map((a) => a.position));
  }
  const res = await fetch(`${url}${PATH}`, { headers: { 'X-Min-Position': String(position) } });
  if (res.status !== 200) throw new Error(`seed read: ${res.status}`);
}

const sumOver = async (urls: string[], read: (url: string) => Promise<number>) =>
  (await Promise.all(urls.map(read))).reduce((a, b) => a + b, 0);

async function main(): Promise<void> {
  const schema = uniqueSchema('bench_cache');
  const namespace = `bench${Date.now().toString(36)}`;
  const redis = new Redis(REDIS_URL);
  const children: ChildProcess[] = [];
  try {
    progress(
      `starting ${INSTANCES} app processes (schema ${schema}, Redis namespace ${namespace}, TTL ${TTL_MS} ms, compute >= ${COMPUTE_MS} ms)`,
    );
    const env = {
      EVENT_STORE_SCHEMA: schema,
      REDIS_URL,
      CACHE_NAMESPACE: namespace,
      DATABASE_URL,
      TRENDING_CACHE_TTL_MS: String(TTL_MS),
      TRENDING_MIN_COMPUTE_MS: String(COMPUTE_MS),
    };
    const urls: string[] = [];
    for (let i = 0; i < INSTANCES; i++) {
      const { child, url } = await forkInstance(__filename, env); // one by one: the first creates the schema
      children.push(child);
      urls.push(url);
    }
    progress('seeding 50 users and 200 point awards');
    await seed(urls[0]);

    const ours: Scenario = {
      name: 'stampede-cache',
      urls: urls.map((u) => `${u}${PATH}`),
      computations: () =>
        sumOver(urls, async (u) => {
          const text = await (await fetch(`${u}/metrics`)).text();
          const line = text.split('\n').find((l) => l.startsWith('cache_factory_runs_total{cache="trending"}'));
          return Number(line?.split(' ').pop() ?? 0);
        }),
      expiresAt: async () => Date.parse(((await (await fetch(`${urls[0]}${PATH}`)).json()) as { computedAt: string }).computedAt) + TTL_MS,
    };
    const naive: Scenario = {
      name: 'naive get/compute/set',
      urls: urls.map((u) => `${u}${NAIVE_PATH}`),
      computations: () =>
        sumOver(urls, async (u) => ((await (await fetch(`${u}/naive/computations`)).json()) as { computations: number }).computations),
      expiresAt: async () => {
        await (await fetch(`${urls[0]}${NAIVE_PATH}`)).text();
        return Date.now() + Math.max(0, await redis.pttl(naiveKey(namespace)));
      },
    };

    const results: Record<string, Array<Awaited<ReturnType<typeof burst>>>> = { [ours.name]: [], [naive.name]: [] };
    for (let round = 1; round <= ROUNDS; round++) {
      for (const scenario of [naive, ours]) {
        const r = await burst(scenario);
        results[scenario.name].push(r);
        const sorted = r.samples.map((s) => s.ms).sort((a, b) => a - b);
        progress(
          `round ${round}/${ROUNDS} ${scenario.name.padEnd(22)} ${BURST} GETs ${r.afterExpiryMs} ms after expiry: ` +
            `${r.computations} computations, p50 ${percentile(sorted, 50).toFixed(1)} ms, p99 ${percentile(sorted, 99).toFixed(1)} ms`,
        );
      }
    }
    report(summarise(results[ours.name]), summarise(results[naive.name]));
  } finally {
    for (const child of children.reverse()) await stopInstance(child);
    await dropSchema(schema, DATABASE_URL);
    const keys = await redis.keys(`${namespace}:*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
  }
}

function report(ours: ReturnType<typeof summarise>, naive: ReturnType<typeof summarise>): void {
  const ratio = (a: number, b: number) => `${(a / b).toFixed(1)}x`;
  const row = (label: string, n: number | string, o: number | string, r: string) =>
    console.log(`  ${label.padEnd(26)} ${String(n).padStart(14)} ${String(o).padStart(16)} ${r.padStart(12)}`);
  console.log(
    `\nCache burst at expiry: ${BURST} concurrent GETs across ${INSTANCES} instances, ${ROUNDS} rounds, ` +
      `TTL ${TTL_MS} ms, compute >= ${COMPUTE_MS} ms`,
  );
  console.log(`(${cpus().length} CPUs, Node ${process.version}; load generator, app processes, Redis and PostgreSQL on one machine)\n`);
  row('', 'naive (base)', 'stampede-cache', 'naive/ours');
  row(
    'factory runs per burst',
    naive.factoryRunsMean.toFixed(1),
    ours.factoryRunsMean.toFixed(1),
    ratio(naive.factoryRunsMean, ours.factoryRunsMean),
  );
  for (const p of ['p50', 'p95', 'p99', 'max'] as const) {
    row(`latency ${p} (ms)`, naive.latencyMs[p].toFixed(1), ours.latencyMs[p].toFixed(1), ratio(naive.latencyMs[p], ours.latencyMs[p]));
  }
  row('HTTP statuses', JSON.stringify(naive.statuses), JSON.stringify(ours.statuses), '');
  console.log(`  X-Cache (stampede-cache): ${JSON.stringify(ours.xCache)}`);
  console.log("  The baseline route skips Nest's pipeline (pipes, CQRS, filter), which favours it on per-request overhead.");

  const out = benchOutDir();
  const config = {
    burst: BURST,
    instances: INSTANCES,
    rounds: ROUNDS,
    ttlMs: TTL_MS,
    computeMs: COMPUTE_MS,
    cpus: cpus().length,
    node: process.version,
  };
  const figures: Array<[string, (s: typeof ours) => number]> = [
    ['factory runs / burst', (s) => s.factoryRunsMean],
    ['p50 latency (ms)', (s) => s.latencyMs.p50],
    ['p99 latency (ms)', (s) => s.latencyMs.p99],
  ];
  const ratios = Object.fromEntries(figures.map(([label, pick]) => [label, pick(naive) / pick(ours)]));
  writeFileSync(
    join(out, 'cache-burst.json'),
    JSON.stringify(
      { date: new Date().toISOString(), command: 'npm run bench:cache', config, naive, stampedeCache: ours, ratiosNaiveOverOurs: ratios },
      null,
      2,
    ) + '\n',
  );
  writeBarChart(
    join(out, 'cache-burst.svg'),
    `${BURST}-request burst at expiry across ${INSTANCES} instances (same run)`,
    '',
    figures.flatMap(([label, pick]) => [
      { label, value: pick(naive), group: 'naive get/compute/set' },
      { label, value: pick(ours), group: 'stampede-cache' },
    ]),
  );
}

(process.argv.includes('--instance') ? runInstance() : main()).catch((e) => {
  console.error(e);
  process.exit(1);
});
