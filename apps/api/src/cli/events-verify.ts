import { verifyStore } from '@app/event-store';
import { openStore, progressLine, run } from './cli-context';

/**
 * npm run events:verify — reads every stored event through the upcasters and
 * validators. Exit 0: the whole store reads; 1: failures (each listed); 2: error.
 */
run(async () => {
  const es = await openStore();
  try {
    const report = await verifyStore(es.store, {
      progressEvery: 5000,
      onProgress: (p) => {
        const pct = p.head ? ((100 * p.position) / p.head).toFixed(1) : '100.0';
        progressLine(`verify: ${p.checked} events (${pct}% of log), ${p.failed} failing, ${p.eventsPerSecond} events/s`);
      },
    });
    if (process.stderr.isTTY) process.stderr.write('\n');
    console.log(`Checked ${report.checked} events in ${report.durationMs} ms; ${report.failureCount} cannot be read.`);
    for (const [type, versions] of Object.entries(report.byType)) {
      console.log(`  ${type}: ${Object.entries(versions).map(([v, n]) => `${v}=${n}`).join(' ')}`);
    }
    for (const f of report.failures) {
      console.log(`FAIL position=${f.position} stream=${f.streamId} v${f.streamVersion} type=${f.type} schema=v${f.schemaVersion} ${f.code}: ${f.reason}`);
    }
    if (report.failureCount > report.failures.length) console.log(`... and ${report.failureCount - report.failures.length} more`);
    return report.failureCount === 0 ? 0 : 1;
  } finally {
    await es.close();
  }
});
