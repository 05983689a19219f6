import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { exportLines } from '@app/event-store';
import { openStore, progressLine, run } from './cli-context';

/** npm run events:export [-- <file>] — writes the log as JSON lines to the file, or to stdout. */
run(async () => {
  const file = process.argv[2];
  const out = file ? createWriteStream(file) : process.stdout;
  const es = await openStore();
  let count = 0;
  try {
    for await (const line of exportLines(es.store)) {
      if (!out.write(line)) await once(out, 'drain');
      if (++count % 10_000 === 0) progressLine(`export: ${count} events`);
    }
    if (file) {
      out.end();
      await once(out, 'finish');
    }
    progressLine(`export: ${count} events written${file ? ` to ${file}` : ''}`);
    if (process.stderr.isTTY) process.stderr.write('\n');
    return 0;
  } finally {
    await es.close();
  }
});
