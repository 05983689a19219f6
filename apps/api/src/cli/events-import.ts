import { createReadStream } from 'node:fs';
import { importLines } from '@app/event-store';
import { openStore, run } from './cli-context';

/**
 * npm run events:import -- <file> (or stdin) — appends an export file,
 * keeping stored types and schema versions; events already present are skipped.
 */
run(async () => {
  const file = process.argv[2];
  const input = file ? createReadStream(file, 'utf8') : process.stdin.setEncoding('utf8');
  const es = await openStore();
  try {
    const report = await importLines(es.store, input);
    console.log(JSON.stringify(report));
    return 0;
  } finally {
    await es.close();
  }
});
