import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
// The cache's testing entry by path: Jest loads the global set-up without its moduleNameMapper, so no @app alias here.
import { freePort } from '../../libs/stampede-cache/src/testing';
import { eventually } from '../eventually';
import type { TestService } from './test-services';

/** The NATS that `npm test` uses when TEST_NATS_URL is not given and it answers with JetStream. */
export const DEFAULT_TEST_NATS_URL = 'nats://127.0.0.1:4222';

/** The one line to print when `nats-server` is missing, else null. */
export function missingNatsServer(): string | null {
  if (!spawnSync('nats-server', ['--version'], { stdio: 'ignore' }).error) return null;
  return 'npm test needs nats-server on the PATH when no NATS with JetStream answers on 127.0.0.1:4222: install NATS server 2.9+.';
}

/** True when a NATS server answers at `url` with JetStream enabled. */
export async function jetStreamAnswers(url: string): Promise<boolean> {
  const nc = await connect({ servers: url, timeout: 1000, reconnect: false }).catch(() => null);
  if (!nc) return false;
  try {
    await (await jetstreamManager(nc)).getAccountInfo();
    return true;
  } catch {
    return false;
  } finally {
    await nc.close().catch(() => undefined);
  }
}

/**
 * The run's NATS: TEST_NATS_URL when given, else the one on 127.0.0.1:4222 when it answers with
 * JetStream, else `nats-server -js` started on a free port with a temporary store directory,
 * removed with it after the run.
 */
export async function testNats(defaultUrl = DEFAULT_TEST_NATS_URL): Promise<TestService> {
  const given = process.env.TEST_NATS_URL;
  if (given) return { url: given, origin: 'given' };
  if (await jetStreamAnswers(defaultUrl)) return { url: defaultUrl, origin: 'default port' };
  const missing = missingNatsServer();
  if (missing) throw new Error(missing);
  const port = await freePort();
  const storeDir = mkdtempSync(join(tmpdir(), 'es-test-nats-'));
  const server = spawn('nats-server', ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', storeDir], { stdio: 'ignore' });
  const url = `nats://127.0.0.1:${port}`;
  // A run that dies without its teardown must not leave the server behind (kill is synchronous).
  process.once('exit', () => void server.kill('SIGKILL'));
  await eventually(() => jetStreamAnswers(url), 10_000, `nats-server -js on port ${port}`, { everyMs: 100 });
  const stop = async () => {
    if (server.exitCode === null && server.signalCode === null) {
      await new Promise<void>((resolve) => {
        server.once('exit', () => resolve());
        server.kill('SIGTERM');
      });
    }
    rmSync(storeDir, { recursive: true, force: true });
  };
  return { url, origin: 'started for this run', stop };
}
