import { ProjectionStateError, type ProjectionsService } from '@app/event-store';
import { openStore, run } from './cli-context';

const BAR_WIDTH = 30;

function bar(percent: number): string {
  const filled = Math.round((percent / 100) * BAR_WIDTH);
  return `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}]`;
}

/**
 * npm run projections:rebuild -- <name> — starts a zero-downtime rebuild and
 * shows its progress until the shadow model is switched live. The work runs
 * on whichever instance holds the projection (this process takes it if no
 * service is running). Exit 0 when switched, 1 if it stopped on an error.
 */
run(async () => {
  const name = process.argv[2];
  const es = await openStore();
  try {
    if (!name || !es.projections.names().includes(name)) {
      console.error(`Usage: npm run projections:rebuild -- <${es.projections.names().join('|')}>`);
      return 2;
    }
    await es.projections.start();
    await requestRebuild(es.projections, name);
    const started = Date.now();
    for (;;) {
      await new Promise((r) => setTimeout(r, 250));
      const status = (await es.projections.status()).find((p) => p.name === name)!;
      if (status.state === 'stopped-on-error') {
        process.stderr.write('\n');
        console.error(`Rebuild stopped on an error at position ${status.lastError?.position}: ${status.lastError?.code} ${status.lastError?.reason}`);
        return 1;
      }
      if (!status.rebuild) {
        process.stderr.write(`\r${bar(100)} 100%`.padEnd(100) + '\n');
        console.log(`Rebuilt ${name} v${status.version} to position ${status.checkpoint} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
        return 0;
      }
      const r = status.rebuild;
      const line = `${bar(r.percent)} ${r.percent.toFixed(1)}%  position ${r.position}/${status.head}  ${r.eventsPerSecond} events/s  ETA ${r.etaSeconds ?? '?'} s`;
      process.stderr.write(process.stderr.isTTY ? `\r${line.padEnd(100)}` : `${line}\n`);
    }
  } finally {
    await es.close();
  }
});

/**
 * Asks for the rebuild; on a fresh store the projection's row appears once a
 * runner (ours or a service's) has taken it, so retry briefly. A rebuild
 * already running is followed rather than refused.
 */
async function requestRebuild(projections: ProjectionsService, name: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await projections.rebuild(name);
    } catch (error) {
      if (!(error instanceof ProjectionStateError)) throw error;
      const status = (await projections.status()).find((p) => p.name === name);
      if (status?.state === 'rebuilding') return;
      if (status?.state === 'stopped-on-error' || attempt > 50) throw error;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
