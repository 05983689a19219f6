/**
 * Peer benchmark, library level, burst at expiry: INSTANCES processes on one Redis, CALLS
 * concurrent calls right after the cached value expired, a slow factory (COMPUTE_MS).
 * Strategies: plain get/miss/set, cache-manager `wrap`, BentoCache L2 + grace, BentoCache
 * L1 + L2 + bus + grace, and this library (StampedeCache.getOrComputeWithStatus).
 *   npm run bench:peers          (INSTANCES=3 CALLS=3000 ROUNDS=3 TTL_MS=2000 COMPUTE_MS=200)
 * Reports factory runs per expiry, calls that waited for a computation, p50/p99/max;
 * writes <BENCH_OUT or docs/benchmarks>/cache-peers-burst.{json,svg} and cache-peers-burst-latency.svg.
 */
import { TEST_REDIS_URL } from '@app/stampede-cache/testing';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchOutDir, environment } from './bench-env';
import { writeBarChart } from './chart';
import { latencySummary, merge, WorkerCluster } from './peers/cluster';
import { STRATEGIES, type CachedValue, type StrategyName } from './peers/strategies';
import type { CallReport } from './peers/worker';
import { peerVersions } from './peers/versions';

const REDIS_URL = process.env.REDIS_URL ?? TEST_REDIS_URL;
const INSTANCES = Number(process.env.INSTANCES ?? 3);
const CALLS = Number(process.env.CALLS ?? 3000);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const TTL_MS = Number(process.env.TTL_MS ?? 2000);
const COMPUTE_MS = Number(process.env.COMPUTE_MS ?? 200);
const ONLY = process.env.STRATEGIES?.split(',') as StrategyName[] | undefined;
const progress = (s: string) => process.stderr.write(`  ${s}\n`);

async function runStrategy(strategy: StrategyName, namespace: string) {
  const cluster = await WorkerCluster.start(INSTANCES, (worker) => ({
    cmd: 'init',
    strategy,
    worker,
    computeMs: COMPUTE_MS,
    options: { redisUrl: REDIS_URL, namespace: `${namespace}-${strategy}`, ttlMs: TTL_MS },
  }));
  const rounds: CallReport[] = [];
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      const key = `burst-${round}`;
      const primed = await cluster.ask<CachedValue>(0, { cmd: 'prime', key });
      const at = primed.finishedAt + TTL_MS + 50; // right after expiry, measured from when the value was written
      const reports = await cluster.all<CallReport>((w) => ({
        cmd: 'burst',
        key,
        at,
        calls: Math.floor(CALLS / INSTANCES) + (w < CALLS % INSTANCES ? 1 : 0),
      }));
      const r = merge(reports);
      rounds.push(r);
      const l = latencySummary(r.latenciesMs);
      progress(
        `${strategy.padEnd(27)} round ${round}/${ROUNDS}: ${r.factoryStarts.length} factory runs, ${r.waited} waited, ` +
          `${r.stale} stale, p50 ${l.p50.toFixed(1)} ms, p99 ${l.p99.toFixed(1)} ms, errors ${r.errors}`,
      );
    }
  } finally {
    await cluster.close();
  }
  const all = merge(rounds);
  const mean = (pick: (r: CallReport) => number) => rounds.reduce((s, r) => s + pick(r), 0) / rounds.length;
  return {
    factoryRunsPerExpiry: rounds.map((r) => r.factoryStarts.length),
    factoryRunsMean: mean((r) => r.factoryStarts.length),
    waitedCallsMean: mean((r) => r.waited),
    waitedShare: all.waited / Math.max(1, all.latenciesMs.length),
    staleCallsMean: mean((r) => r.stale),
    errors: all.errors,
    latencyMs: latencySummary(all.latenciesMs),
  };
}

async function main(): Promise<void> {
  const namespace = `peers${Date.now().toString(36)}`;
  const strategies = ONLY ?? [...STRATEGIES];
  progress(
    `${INSTANCES} processes on one Redis, ${CALLS} calls ${50} ms after expiry, ` +
      `factory ${COMPUTE_MS} ms, ttl ${TTL_MS} ms, ${ROUNDS} rounds`,
  );
  const results: Record<string, Awaited<ReturnType<typeof runStrategy>>> = {};
  for (const strategy of strategies) results[strategy] = await runStrategy(strategy, namespace);

  console.log(
    `\nBurst at expiry: ${CALLS} calls across ${INSTANCES} processes, factory ${COMPUTE_MS} ms (means per expiry over ${ROUNDS} rounds)`,
  );
  console.log(
    `  ${'strategy'.padEnd(28)} ${'factory runs'.padStart(12)} ${'waited'.padStart(8)} ${'stale'.padStart(7)} ` +
      `${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'max ms'.padStart(8)}`,
  );
  for (const [name, r] of Object.entries(results)) {
    console.log(
      `  ${name.padEnd(28)} ${r.factoryRunsMean.toFixed(1).padStart(12)} ${r.waitedCallsMean.toFixed(0).padStart(8)} ` +
        `${r.staleCallsMean.toFixed(0).padStart(7)} ` +
        `${r.latencyMs.p50.toFixed(1).padStart(8)} ${r.latencyMs.p99.toFixed(1).padStart(8)} ${r.latencyMs.max.toFixed(1).padStart(8)}`,
    );
  }
  const out = benchOutDir();
  const config = { instances: INSTANCES, calls: CALLS, rounds: ROUNDS, ttlMs: TTL_MS, computeMs: COMPUTE_MS, firedAfterExpiryMs: 50 };
  writeFileSync(
    join(out, 'cache-peers-burst.json'),
    JSON.stringify(
      {
        date: new Date().toISOString(),
        command: 'npm run bench:peers',
        ...environment(),
        versions: peerVersions(),
        config,
        strategies: results,
      },
      null,
      2,
    ) + '\n',
  );
  writeBarChart(
    join(out, 'cache-peers-burst.svg'),
    `Factory runs per expiry: ${CALLS} calls on ${INSTANCES} processes`,
    'runs',
    Object.entries(results).map(([name, r]) => ({
      label: name,
      value: r.factoryRunsMean,
      group: name === 'stampede-cache' ? 'this library' : 'peers',
    })),
  );
  writeBarChart(
    join(out, 'cache-peers-burst-latency.svg'),
    `Latency of a ${CALLS}-call burst at expiry (ms)`,
    'ms',
    Object.entries(results).flatMap(([name, r]) => [
      { label: `${name} p50`, value: r.latencyMs.p50, group: 'p50' },
      { label: `${name} p99`, value: r.latencyMs.p99, group: 'p99' },
    ]),
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
