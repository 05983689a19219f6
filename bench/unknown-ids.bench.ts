/**
 * Memory under a flood of lookups of unknown ids: IDS distinct random user ids, none
 * registered, read with GET /users/:id (CONCURRENCY at a time) from one app on Redis.
 * Each answers 404 and caches a negative result briefly (negativeTtl, 5 s by default) in an
 * L1 bound of its own. Samples, during and after: the app's L1 (entries, negative entries,
 * bytes), its heap and RSS, and the namespace's keys and memory in Redis; baseline: the same
 * figures before the flood, in the same run. Also reads one known user throughout, to show
 * that the flood does not evict it.
 *   npm run bench:unknown-ids    (IDS=100000 CONCURRENCY=64)
 * Writes <BENCH_OUT or docs/benchmarks>/unknown-ids.json.
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { Agent, get as httpGet } from 'node:http';
import { join } from 'node:path';
import Redis from 'ioredis';
import { StampedeCache } from '@app/stampede-cache';
import { createApp } from '../apps/api/src/bootstrap';
import { loadConfig } from '../apps/api/src/config/app-config';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '@app/event-store/testing';
import { deleteNamespace, TEST_REDIS_URL } from '@app/stampede-cache/testing';
import { benchOutDir, BENCH_PII_MASTER_KEY } from './bench-env';

const DATABASE_URL = process.env.DATABASE_URL ?? TEST_DATABASE_URL;
const REDIS_URL = process.env.REDIS_URL ?? TEST_REDIS_URL;
const IDS = Number(process.env.IDS ?? 100_000);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 64);
const progress = (s: string) => process.stderr.write(`  ${s}\n`);
const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;

function get(url: string, agent: Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    httpGet(url, { agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    }).on('error', reject);
  });
}

async function redisFigures(redis: Redis, namespace: string) {
  const count: Record<string, number> = { entries: 0, fences: 0, locks: 0, tags: 0 };
  for (let cursor = '0'; ;) {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${namespace}:*`, 'COUNT', 5_000);
    for (const key of keys) {
      if (key.endsWith(':fence')) count.fences += 1;
      else if (key.endsWith(':lock')) count.locks += 1;
      else if (key.startsWith(`${namespace}:tag:`)) count.tags += 1;
      else count.entries += 1;
    }
    cursor = next;
    if (cursor === '0') break;
  }
  const info = await redis.info('memory');
  const used = Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0);
  return { keys: count, usedMemoryMb: mb(used) };
}

async function main(): Promise<void> {
  const schema = uniqueSchema('bench_unknown');
  const namespace = `bench-unknown-${Date.now().toString(36)}`;
  const config = loadConfig({
    ...process.env,
    PII_MASTER_KEY: BENCH_PII_MASTER_KEY,
    LOG_LEVEL: 'error',
    EVENT_STORE_SCHEMA: schema,
    REDIS_URL,
    CACHE_NAMESPACE: namespace,
  });
  const app = await createApp({ ...config, DATABASE_URL }, { shutdownHooks: false });
  await app.listen(0, '127.0.0.1');
  const base = await app.getUrl();
  const cache = app.get(StampedeCache);
  const redis = new Redis(REDIS_URL);
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  try {
    const known = await fetch(`${base}/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ firstName: 'Known', lastName: 'User', email: 'known@example.com' }),
    }).then((r) => r.json() as Promise<{ id: string; position: number }>);
    await fetch(`${base}/users/${known.id}`, { headers: { 'X-Min-Position': String(known.position) } });
    global.gc?.();
    const sample = async () => ({
      l1: cache.usage,
      heapMb: mb(process.memoryUsage().heapUsed),
      rssMb: mb(process.memoryUsage().rss),
      redis: await redisFigures(redis, namespace),
    });
    const before = await sample();
    progress(`before: ${JSON.stringify(before)}`);

    let sent = 0;
    let notFound = 0;
    let knownHits = 0;
    const peak = { negativeEntries: 0, l1Bytes: 0, heapMb: 0, rssMb: 0, redisKeys: 0, redisMb: 0 };
    const startedAt = Date.now();
    let flooding = true;
    // One sampler beside the workers: every few seconds, the figures and a progress line.
    const sampler = (async () => {
      while (flooding) {
        await new Promise((resolve) => setTimeout(resolve, 3_000));
        const now = await sample();
        const keys = Object.values(now.redis.keys).reduce((a, b) => a + b, 0);
        Object.assign(peak, {
          negativeEntries: Math.max(peak.negativeEntries, now.l1.negativeEntries),
          l1Bytes: Math.max(peak.l1Bytes, now.l1.bytes),
          heapMb: Math.max(peak.heapMb, now.heapMb),
          rssMb: Math.max(peak.rssMb, now.rssMb),
          redisKeys: Math.max(peak.redisKeys, keys),
          redisMb: Math.max(peak.redisMb, now.redis.usedMemoryMb),
        });
        progress(
          `${sent}/${IDS} lookups (${Math.round(sent / ((Date.now() - startedAt) / 1000))}/s): ` +
            `L1 ${now.l1.negativeEntries} negative, heap ${now.heapMb} MB, rss ${now.rssMb} MB, ` +
            `Redis ${keys} keys ${JSON.stringify(now.redis.keys)}`,
        );
      }
    })();
    const worker = async () => {
      while (sent < IDS) {
        const n = ++sent;
        if ((await get(`${base}/users/${randomUUID()}`, agent)) === 404) notFound += 1;
        if (n % 1_000 === 0 && (await get(`${base}/users/${known.id}`, agent)) === 200) knownHits += 1;
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    flooding = false;
    await sampler;
    const seconds = (Date.now() - startedAt) / 1000;
    global.gc?.();
    const after = await sample();
    const result = {
      generatedAt: new Date().toISOString(),
      config: { ids: IDS, concurrency: CONCURRENCY, negativeTtlMs: 5_000, l1MaxNegativeEntries: 1_000 },
      lookupsPerSecond: Math.round(IDS / seconds),
      notFound,
      knownUserAnswered200: `${knownHits} of ${Math.floor(IDS / 1_000)} checks`,
      before,
      peak,
      after,
    };
    console.log(JSON.stringify(result, null, 2));
    writeFileSync(join(benchOutDir(), 'unknown-ids.json'), `${JSON.stringify(result, null, 2)}\n`);
  } finally {
    agent.destroy();
    await app.close();
    await deleteNamespace(redis, namespace);
    await redis.quit();
    await dropSchema(schema, DATABASE_URL);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
