import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { startEmbeddedPostgres } from '../../apps/api/src/config/embedded-postgres';
import { DEFAULT_TEST_DATABASE_URL } from '../../libs/event-store/src/testing';
// The cache's testing entry by path: Jest loads the global set-up without its moduleNameMapper, so no @app alias here.
import { DEFAULT_TEST_REDIS_URL, freePort, startRedisServer } from '../../libs/stampede-cache/src/testing';

/**
 * The PostgreSQL and Redis a test run uses, so that `npm test` needs nothing
 * running: a URL given in TEST_DATABASE_URL / TEST_REDIS_URL, else what answers
 * on the default port, else a server started for this run on a free port
 * (embedded PostgreSQL, `redis-server` from the PATH) and stopped after it.
 */
export interface TestService {
  url: string;
  origin: 'given' | 'default port' | 'started for this run';
  stop?: () => Promise<void>;
}

/** How long a probe of a default port may take: nothing listening must not slow the run down. */
const PROBE_TIMEOUT_MS = 1_000;

/** Server settings for a throw-away test cluster: durability is not needed, connections are. */
const TEST_POSTGRES_FLAGS = [
  '-c',
  'listen_addresses=127.0.0.1',
  '-c',
  'max_connections=400',
  '-c',
  'fsync=off',
  '-c',
  'synchronous_commit=off',
  '-c',
  'full_page_writes=off',
];

/** The one line to print when the Redis binaries the tests need are missing, else null. */
export function missingRedisBinaries(): string | null {
  const missing = ['redis-server', 'redis-cli'].filter((bin) => spawnSync(bin, ['--version'], { stdio: 'ignore' }).error);
  if (missing.length === 0) return null;
  return (
    `npm test needs ${missing.join(' and ')} on the PATH (the Redis fault and Cluster tests start their own): ` +
    'install Redis 7, e.g. `apt-get install redis-server` or `brew install redis`.'
  );
}

export async function testDatabase(): Promise<TestService> {
  const given = process.env.TEST_DATABASE_URL;
  if (given) return { url: given, origin: 'given' };
  if (await postgresAnswers(DEFAULT_TEST_DATABASE_URL)) return { url: DEFAULT_TEST_DATABASE_URL, origin: 'default port' };
  const embedded = await startEmbeddedPostgres({
    dataDir: join(tmpdir(), `es-test-pg-${randomBytes(4).toString('hex')}`),
    port: await freePort(),
    persistent: false,
    flags: TEST_POSTGRES_FLAGS,
  });
  return { url: embedded.url, origin: 'started for this run', stop: embedded.stop };
}

export async function testRedis(): Promise<TestService> {
  const given = process.env.TEST_REDIS_URL;
  if (given) return { url: given, origin: 'given' };
  if (await redisAnswers(DEFAULT_TEST_REDIS_URL)) return { url: DEFAULT_TEST_REDIS_URL, origin: 'default port' };
  const { server, stop } = await startRedisServer();
  // A run that dies without its teardown must not leave the server behind (kill is synchronous).
  process.once('exit', () => void server.kill());
  return { url: server.url, origin: 'started for this run', stop };
}

/** The URL without its password, for logs. */
export function redacted(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}

async function postgresAnswers(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  if ((await reply(hostname, Number(port || 5432))) === null) return false;
  const client = new Client({ connectionString: url, connectionTimeoutMillis: PROBE_TIMEOUT_MS });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function redisAnswers(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  const answer = await reply(hostname, Number(port || 6379), 'PING\r\n');
  return answer?.startsWith('+PONG') ?? false;
}

/** Connects (and sends `request`), resolving the first reply, '' when connected without one, or null. */
function reply(host: string, port: number, request?: string): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    const done = (result: string | null) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(PROBE_TIMEOUT_MS, () => done(null));
    socket.once('error', () => done(null));
    socket.once('connect', () => (request ? socket.write(request) : done('')));
    socket.once('data', (data) => done(data.toString()));
  });
}
