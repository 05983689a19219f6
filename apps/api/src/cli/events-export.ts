import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { exportLines, exportPersonalDataKeys } from '@app/event-store/tools';
import { keysFileArgument, openStore, progressLine, run } from './cli-context';

/**
 * npm run events:export [-- <file>] [--keys <keys-file>] — writes the log as JSON lines to
 * the file, or to stdout; personal fields stay ciphertext. Only with `--keys` are the data
 * keys (still wrapped by PII_MASTER_KEY) and tombstones written, to their own file.
 */
run(async () => {
  const { file, keysFile } = keysFileArgument(process.argv.slice(2));
  const out = file ? createWriteStream(file) : process.stdout;
  const es = await openStore();
  let count = 0;
  try {
    if (keysFile) {
      const keys = createWriteStream(keysFile, { mode: 0o600 });
      for await (const line of exportPersonalDataKeys(es.store)) if (!keys.write(line)) await once(keys, 'drain');
      keys.end();
      await once(keys, 'finish');
      progressLine(`export: personal-data keys written to ${keysFile}`);
    }
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
