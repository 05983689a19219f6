import { mkdirSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';

/**
 * Where a benchmark writes its JSON and SVG: `BENCH_OUT` when set (the smoke test points it
 * at a temporary directory so tiny runs never overwrite published figures), else docs/benchmarks.
 */
export function benchOutDir(): string {
  const dir = process.env.BENCH_OUT ?? join(__dirname, '../docs/benchmarks');
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** The machine facts every result file records, so a figure is never read without its context. */
export function environment(): { cpus: number; cpuModel: string; memoryGb: number; node: string } {
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
  };
}

/** The personal-data master key of benchmark apps when PII_MASTER_KEY is unset (benchmark data only). */
export const BENCH_PII_MASTER_KEY = process.env.PII_MASTER_KEY ?? 'be0c4be0c4be0c4be0c4be0c4be0c4be0c4be0c4be0c4be0c4be0c4be0c4be0c';
