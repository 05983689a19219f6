import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Cluster, Redis } from 'ioredis';
import { eventually } from '../../../../test/eventually';

/** Deletes every key of a test namespace (on every master of a Cluster). */
export async function deleteNamespace(client: Redis | Cluster, namespace: string): Promise<void> {
  const nodes = (client as Cluster).isCluster ? (client as Cluster).nodes('master') : [client as Redis];
  for (const node of nodes) {
    const keys: string[] = [];
    for (let cursor = '0'; ;) {
      const [next, batch] = await node.scan(cursor, 'MATCH', `${namespace}:*`, 'COUNT', 1_000);
      keys.push(...batch);
      cursor = next;
      if (cursor === '0') break;
    }
    // One DEL per key: in a Cluster the keys live in different slots.
    await Promise.all(keys.map((key) => node.del(key)));
  }
}

/** A loopback port that is free now, and whose Cluster bus port (port + 10000) is free too. */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 30_000);
    if ((await isFree(port)) && (await isFree(port + 10_000))) return port;
  }
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A `redis-server` child process owned by a test. */
export class RedisServerProcess {
  private child?: ChildProcess;

  constructor(
    readonly port: number,
    private readonly cwd: string,
    private readonly extraArgs: string[] = [],
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts the server and resolves once it answers PING. */
  async start(): Promise<void> {
    const args = [
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--daemonize',
      'no',
      ...this.extraArgs,
    ];
    this.child = spawn('redis-server', args, { cwd: this.cwd, stdio: 'ignore' });
    await eventually(async () => (await ping(this.port)) === 'PONG', 10_000, `redis-server on ${this.port}`);
  }

  /** Kills the server (SIGKILL by default: a crash, not a shutdown) and waits for the process to exit. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill(signal);
    });
  }
}

/** Starts a standalone `redis-server` on a free port in its own temp dir. */
export async function startRedisServer(): Promise<{ server: RedisServerProcess; dir: string; stop: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'sc-redis-'));
  const server = new RedisServerProcess(await freePort(), dir);
  await server.start();
  return {
    server,
    dir,
    stop: async () => {
      await server.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Starts a 3-master Redis Cluster on free loopback ports; `stop` kills the nodes and removes the temp dir. */
export async function startRedisCluster(): Promise<{ ports: number[]; stop: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'sc-cluster-'));
  const nodes: RedisServerProcess[] = [];
  const stop = async () => {
    await Promise.all(nodes.map((node) => node.kill()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      const node = new RedisServerProcess(port, dir, [
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        join(dir, `nodes-${port}.conf`),
      ]);
      nodes.push(node);
      await node.start();
    }
    const ports = nodes.map((node) => node.port);
    const created = spawnSync(
      'redis-cli',
      ['--cluster', 'create', ...ports.map((port) => `127.0.0.1:${port}`), '--cluster-replicas', '0', '--cluster-yes'],
      { encoding: 'utf8', timeout: 30_000 },
    );
    if (created.status !== 0) throw new Error(`redis-cli --cluster create failed: ${created.stdout}${created.stderr}`);
    for (const port of ports) {
      await eventually(async () => (await clusterInfo(port)).includes('cluster_state:ok'), 20_000, `cluster_state:ok on ${port}`);
    }
    return { ports, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Probes with redis-cli rather than ioredis: a refused ioredis probe leaves a 2 s timer that keeps Jest alive. */
function redisCli(port: number, ...args: string[]): Promise<string> {
  return new Promise((resolve) => {
    execFile('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { timeout: 2_000 }, (error, stdout) =>
      resolve(error ? '' : stdout.trim()),
    );
  });
}

function ping(port: number): Promise<string> {
  return redisCli(port, 'PING');
}

function clusterInfo(port: number): Promise<string> {
  return redisCli(port, 'CLUSTER', 'INFO');
}
