/**
 * One "instance" of a peer benchmark: a process holding one cache client of one strategy,
 * driven by the coordinator over IPC (prime a key, fire a burst at an instant, or keep a
 * steady request rate), reporting latencies, how many calls waited for a computation and
 * when its factory ran.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { createStrategy, type CachedValue, type Strategy, type StrategyName, type StrategyOptions } from './strategies';

export type WorkerCommand =
  | { cmd: 'init'; strategy: StrategyName; options: StrategyOptions; worker: number; computeMs: number }
  | { cmd: 'prime'; key: string }
  | { cmd: 'burst'; key: string; calls: number; at: number }
  | { cmd: 'sustain'; key: string; ratePerSec: number; durationMs: number; at: number }
  | { cmd: 'close' };

/** What a worker reports for a burst or a steady run. */
export interface CallReport {
  latenciesMs: number[];
  /** Calls whose value was computed after they started (they waited for a factory). */
  waited: number;
  /** Calls served a value older than its ttl (stale / grace). */
  stale: number;
  errors: number;
  /** Epoch ms at which this worker's factory started, one entry per run. */
  factoryStarts: number[];
}

let strategy: Strategy;
let worker = 0;
let computeMs = 0;
let ttlMs = 0;
let factoryStarts: number[] = [];

/** The slow factory: counts its runs, takes computeMs, returns who computed the value and when. */
async function factory(): Promise<CachedValue> {
  factoryStarts.push(Date.now());
  await sleep(computeMs);
  return { worker, finishedAt: Date.now() };
}

async function call(key: string, report: CallReport): Promise<void> {
  const started = Date.now();
  const t = process.hrtime.bigint();
  try {
    const value = await strategy.getOrCompute(key, factory);
    report.latenciesMs.push(Number(process.hrtime.bigint() - t) / 1e6);
    if (value.finishedAt >= started) report.waited++;
    else if (value.finishedAt + ttlMs < started) report.stale++;
  } catch {
    report.errors++;
  }
}

const newReport = (): CallReport => ({ latenciesMs: [], waited: 0, stale: 0, errors: 0, factoryStarts: (factoryStarts = []) });

async function handle(message: WorkerCommand): Promise<unknown> {
  switch (message.cmd) {
    case 'init':
      ({ worker, computeMs } = message);
      ttlMs = message.options.ttlMs;
      strategy = await createStrategy(message.strategy, message.options);
      return { ready: true };
    case 'prime':
      return strategy.getOrCompute(message.key, factory);
    case 'burst': {
      const report = newReport();
      await sleep(Math.max(0, message.at - Date.now()));
      await Promise.all(Array.from({ length: message.calls }, () => call(message.key, report)));
      return report;
    }
    case 'sustain': {
      // Open loop: calls start on schedule whether or not earlier ones have finished.
      const report = newReport();
      const interval = 1000 / message.ratePerSec;
      const calls: Array<Promise<void>> = [];
      for (let i = 0; message.at + i * interval < message.at + message.durationMs; i++) {
        await sleep(Math.max(0, message.at + i * interval - Date.now()));
        calls.push(call(message.key, report));
      }
      await Promise.all(calls);
      return report;
    }
    case 'close':
      await strategy?.close();
      setImmediate(() => process.exit(0));
      return { closed: true };
  }
}

process.on('message', (message: WorkerCommand) => {
  const reply = (answer: object) => process.connected && process.send!(answer);
  handle(message).then(
    (result) => reply({ ok: true, result }),
    (error: unknown) => reply({ ok: false, error: String((error instanceof Error && error.stack) || error) }),
  );
});
process.once('disconnect', () => process.exit(1)); // the coordinator died: do not outlive it
