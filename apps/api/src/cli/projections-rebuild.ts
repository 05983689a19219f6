import { ProjectionStateError, type EventStoreHandle, type ProjectionsService, type ProjectionStatus } from '@app/event-store';
import { openStore, run } from './cli-context';

const BAR_WIDTH = 30;

function bar(percent: number): string {
  const filled = Math.round((percent / 100) * BAR_WIDTH);
  return `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}]`;
}

/**
 * npm run projections:rebuild -- <name>          starts a zero-downtime rebuild and shows its
 *                                                progress until the shadow model is switched live
 * npm run projections:rebuild -- --abort <name>  aborts the rebuild (running or stopped) and drops
 *                                                its shadow tables; the live model is untouched
 * The work runs on whichever instance holds the projection (this process
 * takes it if no service is running). Exit 0 when switched (or aborted), 1
 * if the rebuild stopped on an error or there was none to abort, 2 on usage errors.
 */
run(async () => {
  const args = process.argv.slice(2);
  const abort = args[0] === '--abort';
  const name = abort ? args[1] : args[0];
  const es = await openStore();
  try {
    if (!name || !es.projections.names().includes(name) || args.length !== (abort ? 2 : 1)) {
      console.error(`Usage: npm run projections:rebuild -- [--abort] <${es.projections.names().join('|')}>`);
      return 2;
    }
    return abort ? await abortRebuild(es, name) : await rebuildAndFollow(es, name);
  } finally {
    await es.close();
  }
});

async function abortRebuild(es: EventStoreHandle, name: string): Promise<number> {
  try {
    const aborted = await es.projections.abortRebuild(name);
    console.log(`Aborted the v${aborted.version} rebuild of ${name} at position ${aborted.position}; its shadow tables are dropped`);
    return 0;
  } catch (error) {
    if (!(error instanceof ProjectionStateError)) throw error;
    console.error(error.message);
    return 1;
  }
}

async function rebuildAndFollow(es: EventStoreHandle, name: string): Promise<number> {
  await es.projections.start();
  const startedAt = await requestRebuild(es.projections, name);
  const started = Date.now();
  for (;;) {
    await new Promise((r) => setTimeout(r, 250));
    const status = (await es.projections.status()).find((p) => p.name === name)!;
    const r = status.rebuild;
    if (r?.state === 'stopped-on-error' && r.error) {
      process.stderr.write('\n');
      const { position, phase, code, reason } = r.error;
      console.error(`Rebuild stopped on an error at position ${position} (phase ${phase}): ${code} ${reason}`);
      console.error(
        `Fix and POST /admin/projections/${name}/retry {"phase":"rebuild"}, or: npm run projections:rebuild -- --abort ${name}`,
      );
      return 1;
    }
    if (!r) return finished(status, startedAt, started);
    const line =
      `${bar(r.percent)} ${r.percent.toFixed(1)}%  position ${r.position}/${status.head}  ` +
      `${r.eventsPerSecond} events/s  ETA ${r.etaSeconds ?? '?'} s`;
    process.stderr.write(process.stderr.isTTY ? `\r${line.padEnd(100)}` : `${line}\n`);
  }
}

function finished(status: ProjectionStatus, rebuildStartedAt: string, started: number): number {
  const aborted = status.abortedRebuild;
  if (aborted && Date.parse(aborted.at) >= Date.parse(rebuildStartedAt)) {
    process.stderr.write('\n');
    console.error(`The rebuild of ${status.name} was aborted at position ${aborted.position}`);
    return 1;
  }
  process.stderr.write(`\r${bar(100)} 100%`.padEnd(100) + '\n');
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`Rebuilt ${status.name} v${status.version} to position ${status.checkpoint} in ${seconds} s`);
  return 0;
}

/**
 * Asks for the rebuild and returns when it started (database time); on a
 * fresh store the projection's row appears once a runner (ours or a
 * service's) has taken it, so retry briefly. A rebuild already there is
 * followed rather than refused.
 */
async function requestRebuild(projections: ProjectionsService, name: string): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    // A state refusal (no row yet, a rebuild already running) is an answer; anything else is a failure.
    const refusal = await projections.rebuild(name).then(
      () => undefined,
      (error: unknown) => {
        if (error instanceof ProjectionStateError) return error;
        throw error;
      },
    );
    const status = (await projections.status()).find((p) => p.name === name);
    if (status?.rebuild) return status.rebuild.startedAt;
    if (!refusal) return new Date().toISOString(); // already switched
    if (attempt > 50) throw refusal;
    await new Promise((r) => setTimeout(r, 200));
  }
}
