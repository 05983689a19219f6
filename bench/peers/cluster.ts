import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { CallReport, WorkerCommand } from './worker';

/** N worker processes of one strategy, each answering one command at a time. */
export class WorkerCluster {
  private constructor(private readonly workers: ChildProcess[]) {}

  static async start(count: number, init: (worker: number) => WorkerCommand): Promise<WorkerCluster> {
    const workers = Array.from({ length: count }, () =>
      fork(join(__dirname, 'worker.ts'), [], { execArgv: ['-r', '@swc-node/register'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
    );
    const cluster = new WorkerCluster(workers);
    try {
      await Promise.all(workers.map((_, i) => cluster.ask(i, init(i))));
    } catch (error) {
      workers.forEach((child) => child.kill('SIGKILL'));
      throw error;
    }
    return cluster;
  }

  get size(): number {
    return this.workers.length;
  }

  /** Sends one command to one worker and resolves with its answer. */
  ask<T = unknown>(worker: number, command: WorkerCommand): Promise<T> {
    const child = this.workers[worker];
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`worker ${worker} exited with ${code}`));
      child.once('exit', onExit);
      child.once('message', (m: { ok: boolean; result?: T; error?: string }) => {
        child.off('exit', onExit);
        if (m.ok) resolve(m.result as T);
        else reject(new Error(`worker ${worker}: ${m.error}`));
      });
      child.send(command);
    });
  }

  /** The same command to every worker (built per worker), answers in worker order. */
  all<T>(command: (worker: number) => WorkerCommand): Promise<T[]> {
    return Promise.all(this.workers.map((_, i) => this.ask<T>(i, command(i))));
  }

  async close(): Promise<void> {
    await Promise.all(
      this.workers.map(async (child, i) => {
        if (child.exitCode !== null) return;
        const exited = new Promise((r) => child.once('exit', r));
        await this.ask(i, { cmd: 'close' }).catch(() => child.kill('SIGKILL'));
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }),
    );
  }
}

/** Reports of all workers merged into one. */
export function merge(reports: CallReport[]): CallReport {
  return {
    latenciesMs: reports.flatMap((r) => r.latenciesMs),
    waited: reports.reduce((s, r) => s + r.waited, 0),
    stale: reports.reduce((s, r) => s + r.stale, 0),
    errors: reports.reduce((s, r) => s + r.errors, 0),
    factoryStarts: reports.flatMap((r) => r.factoryStarts).sort((a, b) => a - b),
  };
}

export function percentile(sortedMs: number[], p: number): number {
  if (sortedMs.length === 0) return Number.NaN;
  return sortedMs[Math.min(sortedMs.length - 1, Math.max(0, Math.ceil((p / 100) * sortedMs.length) - 1))];
}

/** p50 / p99 / max of latencies, in ms. */
export function latencySummary(latenciesMs: number[]): { p50: number; p99: number; max: number } {
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted[sorted.length - 1] ?? Number.NaN };
}
