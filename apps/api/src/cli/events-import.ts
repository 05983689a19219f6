import { createReadStream, statSync } from 'node:fs';
import { importLines, type ImportProgress } from '@app/event-store';
import { auditEmails } from '../users/email-audit';
import { EmailReservations } from '../users/email-reservations';
import { openStore, progressLine, run } from './cli-context';

/**
 * npm run events:import -- <file> (or stdin) — imports an export file in bulk
 * (COPY), keeping stored types and schema versions; events already present
 * are skipped, so re-running after a crash continues where it stopped.
 * Then reserves the imported registrations' emails (the earliest keeps an email) and
 * lists, in `duplicateEmails`, each registration whose email another user holds.
 * Progress on stderr, the report as JSON on stdout.
 */
run(async () => {
  const file = process.argv[2];
  const input = file ? createReadStream(file) : process.stdin;
  const es = await openStore();
  const reserveImported = (head: number, through = 0) =>
    auditEmails(es.store, new EmailReservations(es), { afterPosition: head, throughPosition: through, repair: true });
  try {
    const head = await es.store.headPosition();
    const options = { totalBytes: file ? statSync(file).size : undefined, onProgress: showProgress };
    const report = await importLines(es.store, input, options).catch(async (error) => {
      await reserveImported(head).catch(() => undefined);
      throw error;
    });
    if (process.stderr.isTTY) process.stderr.write('\n');
    const emails = await reserveImported(head, report.position);
    console.log(JSON.stringify({ ...report, duplicateEmails: emails.duplicates }));
    return 0;
  } finally {
    await es.close();
  }
});

function showProgress(p: ImportProgress): void {
  if (p.phase === 'reading') {
    const mb = (n: number) => (n / 1e6).toFixed(1);
    const done = p.totalBytes ? p.bytesRead / p.totalBytes : undefined;
    progressLine(`import: reading ${bar(done)} ${mb(p.bytesRead)}${p.totalBytes ? `/${mb(p.totalBytes)}` : ''} MB`);
  } else if (p.phase === 'checking') {
    progressLine(`import: checking ${(p.bytesRead / 1e6).toFixed(1)} MB against the log`);
  } else {
    progressLine(`import: writing ${bar(p.toWrite ? p.written / p.toWrite : 1)} ${p.written}/${p.toWrite} events`);
  }
}

/** A 20-character progress bar, or a plain marker when the total is unknown. */
function bar(fraction: number | undefined): string {
  if (fraction === undefined) return '[ ... ]';
  const filled = Math.round(Math.min(1, fraction) * 20);
  return `[${'#'.repeat(filled)}${'-'.repeat(20 - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}%`;
}
