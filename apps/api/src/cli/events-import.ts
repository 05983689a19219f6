import { createReadStream } from 'node:fs';
import { importLines } from '@app/event-store';
import { auditEmails } from '../users/email-audit';
import { EmailReservations } from '../users/email-reservations';
import { openStore, run } from './cli-context';

/**
 * npm run events:import -- <file> (or stdin) — appends an export file,
 * keeping stored types and schema versions; events already present are skipped.
 * Then reserves the imported registrations' emails (the earliest keeps an email) and
 * lists, in `duplicateEmails`, each registration whose email another user holds.
 */
run(async () => {
  const file = process.argv[2];
  const input = file ? createReadStream(file, 'utf8') : process.stdin.setEncoding('utf8');
  const es = await openStore();
  const reserveImported = (head: number, through = 0) =>
    auditEmails(es.store, new EmailReservations(es), { afterPosition: head, throughPosition: through, repair: true });
  try {
    const head = await es.store.headPosition();
    const report = await importLines(es.store, input).catch(async (error) => {
      await reserveImported(head).catch(() => undefined);
      throw error;
    });
    const emails = await reserveImported(head, report.position);
    console.log(JSON.stringify({ ...report, duplicateEmails: emails.duplicates }));
    return 0;
  } finally {
    await es.close();
  }
});
