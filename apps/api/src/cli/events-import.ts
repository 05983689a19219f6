import { createReadStream, statSync } from 'node:fs';
import type { ImportProgress } from '@app/event-store/tools';
import { LogMaintenance } from '../log-maintenance/log-maintenance';
import { keysFileArgument, openStore, progressLine, run } from './cli-context';

/**
 * npm run events:import -- <file> (or stdin) [--keys <keys-file>] — imports an export file in
 * bulk (COPY), keeping stored types and schema versions; events already present are skipped,
 * so re-running after a crash continues where it stopped. A keys file (`events:export --keys`)
 * is loaded first; it never restores a key for a tombstoned person. Plaintext personal fields
 * (events written before encryption) are encrypted on the way in with this store's keys: the
 * re-encryption path of docs/operations.md.
 * Each chunk reserves the emails of the registrations it writes, in its transaction (the
 * earliest keeps an email); `duplicateEmails` lists each registration whose email another user holds.
 * Progress on stderr, the report as JSON on stdout.
 */
run(async () => {
  const { file, keysFile } = keysFileArgument(process.argv.slice(2));
  const input = file ? createReadStream(file) : process.stdin;
  const es = await openStore();
  try {
    const report = await LogMaintenance.of(es).import(input, {
      totalBytes: file ? statSync(file).size : undefined,
      onProgress: showProgress,
      keys: keysFile ? createReadStream(keysFile) : undefined,
    });
    if (process.stderr.isTTY) process.stderr.write('\n');
    console.log(JSON.stringify(report));
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
