import { verifyStore } from '@app/event-store/tools';
import { auditEmails } from '../users/email-audit';
import { EmailReservations } from '../users/email-reservations';
import { openStore, progressLine, run } from './cli-context';

/**
 * npm run events:verify — reads every stored event through the upcasters and
 * validators, then checks that every registration holds its email. Exit 0: the
 * whole store reads and no email is registered twice; 1: failures or duplicates
 * (each listed); 2: error.
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
    console.log(`Plaintext personal fields: ${report.plaintextPersonalFields} (written before encryption; see docs/operations.md)`);
    for (const [type, versions] of Object.entries(report.byType)) {
      console.log(
        `  ${type}: ${Object.entries(versions)
          .map(([v, n]) => `${v}=${n}`)
          .join(' ')}`,
      );
    }
    for (const f of report.failures) {
      console.log(
        `FAIL position=${f.position} stream=${f.streamId} v${f.streamVersion} ` +
          `type=${f.type} schema=v${f.schemaVersion} ${f.code}: ${f.reason}`,
      );
    }
    if (report.failureCount > report.failures.length) console.log(`... and ${report.failureCount - report.failures.length} more`);
    const emails = await auditEmails(es.store, new EmailReservations(es));
    console.log(`Checked ${emails.checked} registrations; ${emails.duplicateCount} do not hold their email.`);
    for (const d of emails.duplicates) {
      console.log(`DUPLICATE email=${d.email} user=${d.userId} position=${d.position} held-by=${d.heldBy ?? 'nobody'}`);
    }
    if (emails.duplicateCount > emails.duplicates.length) console.log(`... and ${emails.duplicateCount - emails.duplicates.length} more`);
    return report.failureCount === 0 && emails.duplicateCount === 0 ? 0 : 1;
  } finally {
    await es.close();
  }
});
