import { createConnection } from 'node:net';
import { createEventStore, type EventStoreHandle, type EventStoreOptions } from '@app/event-store';
import { loadConfig } from '../config/app-config';
import { resolvePiiMasterKey } from '../config/pii-master-key';
import { embeddedPostgresUrl, startEmbeddedPostgres } from '../config/embedded-postgres';
import { appEventStore } from '../app-event-store';

/**
 * Opens the same event store the service uses: DATABASE_URL, or the embedded
 * PostgreSQL under ./.data (reusing a running one, e.g. the service's).
 */
export async function openStore(extra: Partial<EventStoreOptions> = {}): Promise<EventStoreHandle> {
  const config = loadConfig();
  let url = config.DATABASE_URL;
  let stopEmbedded: (() => Promise<void>) | undefined;
  if (!url) {
    const port = config.EMBEDDED_PG_PORT;
    if (await answers(port)) {
      url = embeddedPostgresUrl(port);
    } else {
      const embedded = await startEmbeddedPostgres({ dataDir: config.EMBEDDED_PG_DIR, port });
      url = embedded.url;
      stopEmbedded = embedded.stop;
    }
  }
  const handle = await createEventStore({
    url,
    personalData: { masterKey: resolvePiiMasterKey(config) },
    schema: config.EVENT_STORE_SCHEMA,
    ...appEventStore,
    poolSize: 6,
    projectionLockTimeoutMs: config.PROJECTION_LOCK_TIMEOUT_MS,
    statementTimeoutMs: config.DATABASE_STATEMENT_TIMEOUT_MS,
    idleInTransactionTimeoutMs: config.DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS,
    ...extra,
  });
  return {
    ...handle,
    close: async () => {
      await handle.close();
      await stopEmbedded?.();
    },
  };
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

/** A one-line progress indicator on stderr: rewritten in place on a terminal, one line per update otherwise. */
export function progressLine(text: string): void {
  if (process.stderr.isTTY) process.stderr.write(`\r${text.padEnd(80)}`);
  else process.stderr.write(`${text}\n`);
}

/** `[file] [--keys <keys-file>]` in any order. */
export function keysFileArgument(args: string[]): { file?: string; keysFile?: string } {
  const at = args.indexOf('--keys');
  if (at >= 0 && !args[at + 1]) throw new Error('--keys needs a file name');
  const keysFile = at >= 0 ? args[at + 1] : undefined;
  const rest = at >= 0 ? [...args.slice(0, at), ...args.slice(at + 2)] : args;
  return { file: rest[0], keysFile };
}

/** Runs a CLI main, printing errors and setting the exit code. */
export function run(main: () => Promise<number>): void {
  main().then(
    (code) => process.exit(code),
    (error) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(2);
    },
  );
}
