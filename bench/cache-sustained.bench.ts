/**
 * Peer benchmark, library level, sustained load through several expiries: INSTANCES processes
 * on one Redis send RATE calls/s in total (open loop) for DURATION_MS against one key with a
 * TTL of TTL_MS and a slow factory. Per strategy: factory runs per TTL period, calls that
 * waited for a computation (misses), calls served stale, p50/p99/max; this library with
 * XFetch `beta` 0.5, 1 and 2.
 *   npm run bench:sustained      (INSTANCES=3 RATE=300 DURATION_MS=15000 TTL_MS=3000 COMPUTE_MS=200 BETAS=0.5,1,2)
 *   PEERS=none (this library only) or PEERS=plain,cache-manager-wrap (which peers run; default all)
 * Writes <BENCH_OUT or docs/benchmarks>/cache-sustained.{json,svg}.
 */
import { TEST_REDIS_URL } from '@app/stampede-cache/testing';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchOutDir, environment } from './bench-env';
import { writeBarChart } from './chart';
import { latencySummary, merge, WorkerCluster } from './peers/cluster';
import { STRATEGIES, type StrategyName } from './peers/strategies';
import { peerVersions } from './peers/versions';
import type { CallReport } from './peers/worker';

const REDIS_URL = process.env.REDIS_URL ?? TEST_REDIS_URL;
const INSTANCES = Number(process.env.INSTANCES ?? 3);
const RATE = Number(process.env.RATE ?? 300);
const DURATION_MS = Number(process.env.DURATION_MS ?? 15_000);
const TTL_MS = Number(process.env.TTL_MS ?? 3000);
const COMPUTE_MS = Number(process.env.COMPUTE_MS ?? 200);
const BETAS = (process.env.BETAS ?? '0.5,1,2').split(',').map(Number);
/** Only these peers (comma-separated strategy names; `none` for this library alone). Default: every peer. */
const PEERS = process.env.PEERS?.split(',').map((name) => name.trim());
const progress = (s: string) => process.stderr.write(`  ${s}\n`);

interface Variant {
  name: string;
  strategy: StrategyName;
  beta?: number;
}

async function run(variant: Variant, namespace: string) {
  const cluster = await WorkerCluster.start(INSTANCES, (worker) => ({
    cmd: 'init',
    strategy: variant.strategy,
    worker,
    computeMs: COMPUTE_MS,
    options: {
      redisUrl: REDIS_URL,
      namespace: `${namespace}-${variant.name.replace(/[^A-Za-z0-9_.-]/g, '_')}`,
      ttlMs: TTL_MS,
      beta: variant.beta,
    },
  }));
  try {
    await cluster.ask(0, { cmd: 'prime', key: 'steady' });
    const at = Date.now() + 300;
    const r = merge(
      await cluster.all<CallReport>(() => ({ cmd: 'sustain', key: 'steady', ratePerSec: RATE / INSTANCES, durationMs: DURATION_MS, at })),
    );
    const periods = DURATION_MS / TTL_MS;
    const result = {
      calls: r.latenciesMs.length + r.errors,
      factoryRuns: r.factoryStarts.length,
      factoryRunsPerTtl: r.factoryStarts.length / periods,
      misses: r.waited,
      stale: r.stale,
      errors: r.errors,
      latencyMs: latencySummary(r.latenciesMs),
    };
    progress(
      `${variant.name.padEnd(27)} ${result.calls} calls: ${result.factoryRuns} factory runs ` +
        `(${result.factoryRunsPerTtl.toFixed(2)} per TTL), ` +
        `${result.misses} misses, ${result.stale} stale, p99 ${result.latencyMs.p99.toFixed(1)} ms`,
    );
    return result;
  } finally {
    await cluster.close();
  }
}

async function main(): Promise<void> {
  const namespace = `sustained${Date.now().toString(36)}`;
  const variants: Variant[] = [
    ...STRATEGIES.filter((s) => s !== 'stampede-cache' && (!PEERS || PEERS.includes(s))).map((strategy) => ({ name: strategy, strategy })),
    ...BETAS.map((beta) => ({ name: `stampede-cache beta=${beta}`, strategy: 'stampede-cache' as const, beta })),
  ];
  progress(`${INSTANCES} processes, ${RATE} calls/s for ${DURATION_MS} ms, ttl ${TTL_MS} ms, factory ${COMPUTE_MS} ms`);
  const results: Record<string, Awaited<ReturnType<typeof run>>> = {};
  for (const variant of variants) results[variant.name] = await run(variant, namespace);

  console.log(
    `\nSustained load: ${RATE} calls/s over ${INSTANCES} processes for ${DURATION_MS / 1000} s, ` +
      `ttl ${TTL_MS} ms (${(DURATION_MS / TTL_MS).toFixed(1)} periods), factory ${COMPUTE_MS} ms`,
  );
  console.log(
    `  ${'strategy'.padEnd(28)} ${'runs/TTL'.padStart(9)} ${'misses'.padStart(7)} ${'stale'.padStart(7)} ` +
      `${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'max ms'.padStart(8)}`,
  );
  for (const [name, r] of Object.entries(results)) {
    console.log(
      `  ${name.padEnd(28)} ${r.factoryRunsPerTtl.toFixed(2).padStart(9)} ${String(r.misses).padStart(7)} ${String(r.stale).padStart(7)} ` +
        `${r.latencyMs.p50.toFixed(1).padStart(8)} ${r.latencyMs.p99.toFixed(1).padStart(8)} ${r.latencyMs.max.toFixed(1).padStart(8)}`,
    );
  }
  const out = benchOutDir();
  const config = { instances: INSTANCES, ratePerSec: RATE, durationMs: DURATION_MS, ttlMs: TTL_MS, computeMs: COMPUTE_MS, betas: BETAS };
  writeFileSync(
    join(out, 'cache-sustained.json'),
    JSON.stringify(
      {
        date: new Date().toISOString(),
        command: 'npm run bench:sustained',
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
    join(out, 'cache-sustained.svg'),
    `Sustained ${RATE} calls/s, ttl ${TTL_MS} ms: factory runs per TTL and p99`,
    '',
    Object.entries(results).flatMap(([name, r]) => [
      { label: `${name} runs/TTL`, value: r.factoryRunsPerTtl, group: 'factory runs per TTL' },
      { label: `${name} p99 (ms)`, value: r.latencyMs.p99, group: 'p99 latency (ms)' },
    ]),
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
