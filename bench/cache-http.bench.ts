/**
 * Peer benchmark, HTTP hot path: requests/s with autocannon against one Nest app (its own
 * process): a bare route, a route behind @nestjs/cache-manager's CacheInterceptor on Redis,
 * and this library's cached route served from L1 and from L2 (Redis); ratios to the bare route of the
 * same HTTP platform, and each other platform's rate to Express' on the same route in the same round.
 * One server per platform (HTTP_ADAPTERS=express,fastify), all loaded in turn.
 *   npm run bench:http          (CONNECTIONS=50 DURATION_S=6 ROUNDS=3; platforms and routes interleaved per round)
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
/** Express' rows keep their plain names (the series recorded before Fastify); another platform's are prefixed. */
const ADAPTERS = (process.env.HTTP_ADAPTERS ?? 'express,fastify').split(',');
const rowName = (adapter: string, route: string) => (adapter === 'express' ? route : `${adapter} ${route}`);
const expressRow = (name: string) => name.slice(name.indexOf(' ') + 1);
const progress = (s: string) => process.stderr.write(`  ${s}\n`);

const ROUTES = [
  { name: 'bare', paths: ['/bare'] },
  { name: 'cache-manager CacheInterceptor (Redis)', paths: ['/cache-manager'] },
  { name: 'stampede-cache L1 hit', paths: ['/stampede/l1'] },
  { name: 'stampede-cache L2 hit', paths: Array.from({ length: L2_KEYS }, (_, i) => `/stampede/l2/${i}`) },
];

async function startServer(adapter: string): Promise<{ url: string; stop: () => Promise<void> }> {
  const child = fork(join(__dirname, 'peers/http-app.ts'), [], {
    execArgv: ['-r', '@swc-node/register'],
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

/** Every path once (fills the caches), then DURATION_S seconds of load cycling through the paths. */
async function load(url: string, paths: string[]): Promise<{ requestsPerSec: number; p99Ms: number; non2xx: number; errors: number }> {
  for (const path of paths) {
    const res = await fetch(url + path);
    if (res.status !== 200) throw new Error(`${path}: ${res.status}`);
  }
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: DURATION_S,
    requests: paths.map((path) => ({ method: 'GET', path })),
  });
  return { requestsPerSec: result.requests.average, p99Ms: result.latency.p99, non2xx: result.non2xx, errors: result.errors };
}

async function main(): Promise<void> {
  const servers = new Map<string, Awaited<ReturnType<typeof startServer>>>();
  const runs: Record<string, Array<Awaited<ReturnType<typeof load>>>> = {};
  const bareOf: Record<string, string> = {};
  try {
    for (const adapter of ADAPTERS) servers.set(adapter, await startServer(adapter));
    for (let round = 1; round <= ROUNDS; round++) {
      // Each route on every platform back to back, so a platform comparison sees the same machine load.
      for (const route of ROUTES) {
        for (const [adapter, server] of servers) {
          const name = rowName(adapter, route.name);
          bareOf[name] = rowName(adapter, 'bare');
          const r = await load(server.url, route.paths);
          (runs[name] ??= []).push(r);
          progress(
            `round ${round}/${ROUNDS} ${name.padEnd(48)} ${r.requestsPerSec.toFixed(0)} req/s, p99 ${r.p99Ms} ms, ` +
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
        p99Ms: median(rs.map((r) => r.p99Ms)),
        non2xx: rs.reduce((s, r) => s + r.non2xx, 0),
        errors: rs.reduce((s, r) => s + r.errors, 0),
      },
    ]),
  );
  // A ratio is taken within a round (the bare route ran seconds before), then the median of the rounds.
  const ratiosToBare = Object.fromEntries(
    Object.entries(runs).map(([name, rs]) => [
      name,
      median(rs.map((r, round) => r.requestsPerSec / runs[bareOf[name]][round].requestsPerSec)),
    ]),
  );
  // Another platform against Express on the same route, within a round (the two ran back to back), then the median.
  const ratiosToExpress = Object.fromEntries(
    Object.entries(runs)
      .filter(([name]) => bareOf[name] !== 'bare' && runs[expressRow(name)])
      .map(([name, rs]) => [name, median(rs.map((r, round) => r.requestsPerSec / runs[expressRow(name)][round].requestsPerSec))]),
  );
  console.log(
    `\nHTTP hot path: ${CONNECTIONS} connections, ${DURATION_S} s per route, medians of ${ROUNDS} rounds ` +
      `(load generator and servers on one machine; ratios to the same platform's bare route)`,
  );
  for (const [name, r] of Object.entries(routes)) {
    console.log(
      `  ${name.padEnd(48)} ${r.requestsPerSec.toFixed(0).padStart(8)} req/s   ` +
        `${ratiosToBare[name].toFixed(2)}x bare (same-round ratio)   p99 ${r.p99Ms} ms` +
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
      group: name === bareOf[name] ? 'baseline' : name.includes('stampede') ? 'this library' : 'peer',
    })),
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
