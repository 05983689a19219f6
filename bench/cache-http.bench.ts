/**
 * Peer benchmark, HTTP hot path: requests/s with autocannon against one Nest app (its own
 * process): a bare route, a route behind @nestjs/cache-manager's CacheInterceptor on Redis,
 * this library's @CacheRoute served from L1 and from L2 (Redis), and the same through the
 * QueryBus (a bare query and a @CachedQuery handler, L1 and L2). Per route: requests/s, the
 * server's CPU time per request (process.cpuUsage of the server around each load: steadier
 * than requests/s on a loaded machine), ratios to the bare route and to the cache-manager peer of the
 * same HTTP platform, and each other platform's rate to Express' on the same route in the same round.
 * One server per platform (HTTP_ADAPTERS=express,fastify), each route on every platform back to back.
 *   npm run bench:http          (CONNECTIONS=50 DURATION_S=6 ROUNDS=3 WARMUP_S=2; platforms and routes interleaved per round)
 *   ROUTES=bare,stampede-cache L1 hit     only these routes (names as printed)
 *   CPU_PROF=<dir>                         run the server under --cpu-prof, profiles written to <dir>
 * Writes <BENCH_OUT or docs/benchmarks>/cache-http.{json,svg}.
 */
import autocannon from 'autocannon';
import { fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchOutDir, environment } from './bench-env';
import { writeBarChart } from './chart';
import { L2_KEYS } from './peers/http-app';
import { peerVersions } from './peers/versions';

const CONNECTIONS = Number(process.env.CONNECTIONS ?? 50);
const DURATION_S = Number(process.env.DURATION_S ?? 6);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
/** Load on every route before the measured rounds: JIT warm-up, and the cache's feed heard (L1 is trusted only then). */
const WARMUP_S = Number(process.env.WARMUP_S ?? 2);
const progress = (s: string) => process.stderr.write(`  ${s}\n`);

const CPU_PROF = process.env.CPU_PROF;
/** Express' rows keep their plain names (the series recorded before Fastify); another platform's are prefixed. */
const ADAPTERS = (process.env.HTTP_ADAPTERS ?? 'express,fastify').split(',');
const rowName = (adapter: string, route: string) => (adapter === 'express' ? route : `${adapter} ${route}`);
/** The Express row of another platform's row (`fastify bare` -> `bare`); undefined for Express' own rows. */
const expressRow = (name: string) => {
  const adapter = ADAPTERS.find((a) => a !== 'express' && name.startsWith(`${a} `));
  return adapter ? name.slice(adapter.length + 1) : undefined;
};
const PEER = 'cache-manager CacheInterceptor (Redis)';
const l2Paths = (prefix: string) => Array.from({ length: L2_KEYS }, (_, i) => `${prefix}/${i}`);

const ALL_ROUTES = [
  { name: 'bare', paths: ['/bare'] },
  { name: PEER, paths: ['/cache-manager'] },
  { name: 'stampede-cache L1 hit', paths: ['/stampede/l1'] },
  { name: 'stampede-cache L2 hit', paths: l2Paths('/stampede/l2') },
  { name: 'QueryBus bare', paths: ['/query/bare'] },
  { name: '@CachedQuery L1 hit', paths: ['/query/l1'] },
  { name: '@CachedQuery L2 hit', paths: l2Paths('/query/l2') },
];
const ONLY = process.env.ROUTES?.split(',').map((name) => name.trim());
const ROUTES = ONLY ? ALL_ROUTES.filter((route) => ONLY.includes(route.name)) : ALL_ROUTES;

async function startServer(adapter: string): Promise<{ url: string; stop: () => Promise<void> }> {
  const child = fork(join(__dirname, 'peers/http-app.ts'), [], {
    execArgv: ['-r', '@swc-node/register', ...(CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${CPU_PROF}`] : [])],
    env: { ...process.env, HTTP_ADAPTER: adapter, BENCH_NAMESPACE: `httpbench${adapter}${Date.now().toString(36)}` },
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('message', (m: { url: string }) => resolve(m.url.replace('[::1]', '127.0.0.1')));
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  return {
    url,
    stop: async () => {
      const exited = new Promise((r) => child.once('exit', r));
      child.send('stop');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

interface LoadResult {
  requestsPerSec: number;
  /** Server CPU time (user + system) per request, in microseconds. */
  cpuUsPerRequest: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
}

/** The server's CPU time so far, in microseconds. */
async function serverCpuUs(url: string): Promise<number> {
  const usage = (await (await fetch(`${url}/bench/cpu`)).json()) as NodeJS.CpuUsage;
  return usage.user + usage.system;
}

/** Every path once (fills the caches), then DURATION_S seconds of load cycling through the paths. */
async function load(url: string, paths: string[], durationS = DURATION_S): Promise<LoadResult> {
  for (const path of paths) {
    const res = await fetch(url + path);
    if (res.status !== 200) throw new Error(`${path}: ${res.status}`);
  }
  const cpuBefore = await serverCpuUs(url);
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: durationS,
    requests: paths.map((path) => ({ method: 'GET', path })),
  });
  const cpuUs = (await serverCpuUs(url)) - cpuBefore;
  return {
    requestsPerSec: result.requests.average,
    cpuUsPerRequest: cpuUs / Math.max(1, result.requests.total),
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
  };
}

async function main(): Promise<void> {
  const servers = new Map<string, Awaited<ReturnType<typeof startServer>>>();
  const runs: Record<string, LoadResult[]> = {};
  /** Each row's baselines: the bare route and the peer on its own platform. */
  const bareOf: Record<string, string> = {};
  const peerOf: Record<string, string> = {};
  try {
    for (const adapter of ADAPTERS) servers.set(adapter, await startServer(adapter));
    if (WARMUP_S > 0) {
      for (const route of ROUTES) for (const server of servers.values()) await load(server.url, route.paths, WARMUP_S);
    }
    for (let round = 1; round <= ROUNDS; round++) {
      for (const route of ROUTES) {
        // Each route on every platform back to back, so a platform comparison sees the same machine load.
        for (const [adapter, server] of servers) {
          const name = rowName(adapter, route.name);
          bareOf[name] = rowName(adapter, 'bare');
          peerOf[name] = rowName(adapter, PEER);
          const r = await load(server.url, route.paths);
          (runs[name] ??= []).push(r);
          progress(
            `round ${round}/${ROUNDS} ${name.padEnd(48)} ${r.requestsPerSec.toFixed(0)} req/s, ` +
              `${r.cpuUsPerRequest.toFixed(0)} µs CPU/req, p99 ${r.p99Ms} ms, ` +
              `non-2xx ${r.non2xx}, errors ${r.errors}`,
          );
        }
      }
    }
  } finally {
    for (const server of servers.values()) await server.stop();
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const routes = Object.fromEntries(
    Object.entries(runs).map(([name, rs]) => [
      name,
      {
        requestsPerSec: median(rs.map((r) => r.requestsPerSec)),
        cpuUsPerRequest: median(rs.map((r) => r.cpuUsPerRequest)),
        p99Ms: median(rs.map((r) => r.p99Ms)),
        non2xx: rs.reduce((s, r) => s + r.non2xx, 0),
        errors: rs.reduce((s, r) => s + r.errors, 0),
      },
    ]),
  );
  // A ratio is taken within a round (the baseline ran seconds before), then the median of the rounds.
  const ratiosTo = (baselineOf: (name: string) => string | undefined, of: (r: LoadResult) => number) =>
    Object.fromEntries(
      Object.entries(runs).flatMap(([name, rs]) => {
        const baseline = runs[baselineOf(name) ?? ''];
        return baseline ? [[name, median(rs.map((r, round) => of(r) / of(baseline[round])))]] : [];
      }),
    );
  const perSec = (r: LoadResult) => r.requestsPerSec;
  // CPU per request, bare over route: also "higher is better", comparable with the requests/s ratios.
  const perCpu = (r: LoadResult) => 1 / r.cpuUsPerRequest;
  const ratiosToBare = ratiosTo((name) => bareOf[name], perSec);
  const ratiosToPeer = ratiosTo((name) => peerOf[name], perSec);
  const cpuRatiosToBare = ratiosTo((name) => bareOf[name], perCpu);
  const cpuRatiosToPeer = ratiosTo((name) => peerOf[name], perCpu);
  // Another platform against Express on the same route, within a round (the two ran back to back).
  const ratiosToExpress = ratiosTo(expressRow, perSec);
  const ratio = (table: Record<string, number>, name: string) => (table[name] === undefined ? '   -' : table[name].toFixed(2));
  console.log(
    `\nHTTP hot path: ${CONNECTIONS} connections, ${DURATION_S} s per route, medians of ${ROUNDS} rounds ` +
      `(load generator and servers on one machine); ratios within a round and platform, by req/s and by server CPU per request`,
  );
  console.log(`  ${'route'.padEnd(48)} ${'req/s'.padStart(8)} ${'µs CPU'.padStart(7)}  x bare (req/s, CPU)  x peer (req/s, CPU)  p99`);
  for (const [name, r] of Object.entries(routes)) {
    console.log(
      `  ${name.padEnd(48)} ${r.requestsPerSec.toFixed(0).padStart(8)} ${r.cpuUsPerRequest.toFixed(0).padStart(7)}  ` +
        `${ratio(ratiosToBare, name)}, ${ratio(cpuRatiosToBare, name)}`.padEnd(21) +
        `${ratio(ratiosToPeer, name)}, ${ratio(cpuRatiosToPeer, name)}`.padEnd(21) +
        `${r.p99Ms} ms` +
        (name in ratiosToExpress ? `   ${ratiosToExpress[name].toFixed(2)}x Express` : ''),
    );
  }
  const out = benchOutDir();
  writeFileSync(
    join(out, 'cache-http.json'),
    JSON.stringify(
      {
        date: new Date().toISOString(),
        command: 'npm run bench:http',
        ...environment(),
        versions: peerVersions(),
        config: { connections: CONNECTIONS, durationS: DURATION_S, rounds: ROUNDS, l2Keys: L2_KEYS, adapters: ADAPTERS },
        routes,
        ratiosToBare,
        ratiosToPeer,
        cpuRatiosToBare,
        cpuRatiosToPeer,
        ratiosToExpress,
        perRound: runs,
      },
      null,
      2,
    ) + '\n',
  );
  writeBarChart(
    join(out, 'cache-http.svg'),
    `HTTP hot path: requests/s, ${CONNECTIONS} connections`,
    'req/s',
    Object.entries(routes).map(([name, r]) => ({
      label: name,
      value: r.requestsPerSec,
      group: name.includes('bare') ? 'baseline' : name === peerOf[name] ? 'peer' : 'this library',
    })),
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
