import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Every benchmark, at tiny sizes, through its npm script, as a child process (BentoCache and
 * cache-manager are ESM packages that Jest's CommonJS runtime cannot load), all at once so the
 * whole run stays short. Output goes to a temporary BENCH_OUT: published figures in
 * docs/benchmarks are never touched. A benchmark that no longer runs fails here.
 */
const ROOT = join(__dirname, '..');
const PUBLISHED = join(ROOT, 'docs/benchmarks');

interface Bench {
  script: string;
  env: Record<string, string>;
  /** Files it must write, and a figure in its JSON that must be a positive number. */
  writes: string[];
  figure: (json: Record<string, any>) => unknown;
}

const BENCHES: Bench[] = [
  { script: 'bench:decode', env: { EVENTS: '2000', ROUNDS: '1' }, writes: ['decode.json', 'decode.svg'], figure: (j) => j.compiledPerSec },
  {
    script: 'bench:read',
    env: { EVENTS: '2000', ROUNDS: '1' },
    writes: ['event-read.json', 'event-read.svg'],
    figure: (j) => j.verifyPerSec,
  },
  {
    script: 'bench:memory',
    env: { SMALL: '1000', LARGE: '3000' },
    writes: ['read-memory.json', 'read-memory.svg'],
    figure: (j) => j.large.peakRssMb,
  },
  {
    script: 'bench:event-store',
    env: { EVENTS: '2000', APPENDS: '100', CLIENTS: '4', ROUNDS: '1', BULK: '2000', BULK_ROUNDS: '1', BATCH: '500' },
    writes: ['event-store.json', 'event-store.svg'],
    figure: (j) => j.appendPerSec,
  },
  {
    script: 'bench:rebuild',
    env: { SMALL: '3000', LARGE: '6000' },
    writes: ['projection-rebuild.json', 'projection-rebuild.svg', 'projection-rebuild-memory.svg'],
    figure: (j) => j.rssRatio.user_profiles,
  },
  {
    script: 'bench:cache',
    env: { BURST: '20', INSTANCES: '2', ROUNDS: '1', TTL_MS: '2500', COMPUTE_MS: '20' },
    writes: ['cache-burst.json', 'cache-burst.svg'],
    figure: (j) => j.stampedeCache.factoryRunsMean,
  },
  {
    script: 'bench:peers',
    env: { INSTANCES: '1', CALLS: '20', ROUNDS: '1', TTL_MS: '300', COMPUTE_MS: '20' },
    writes: ['cache-peers-burst.json', 'cache-peers-burst.svg', 'cache-peers-burst-latency.svg'],
    figure: (j) => j.strategies['stampede-cache'].factoryRunsMean,
  },
  {
    script: 'bench:sustained',
    env: { INSTANCES: '1', RATE: '40', DURATION_MS: '900', TTL_MS: '300', COMPUTE_MS: '20', BETAS: '1' },
    writes: ['cache-sustained.json', 'cache-sustained.svg'],
    figure: (j) => j.strategies['stampede-cache beta=1'].calls,
  },
  {
    script: 'bench:write-path',
    env: { INSTANCES: '2', KEYS: '1', DUPLICATES: '10', EMAILS: '1', REGISTRATIONS: '5' },
    writes: ['write-path.json'],
    figure: (j) => j.idempotency.eventsAppended,
  },
  {
    script: 'bench:cost-curve',
    env: { SMALL: '1000', LARGE: '3000', APPENDS: '40', CLIENTS: '4', ROUNDS: '1', BATCH_EVENTS: '1000', APPEND_BATCH: '500' },
    writes: ['cost-curve.json', 'cost-curve.svg'],
    figure: (j) => j.sizes[1].verifyOverSelect,
  },
  {
    script: 'bench:personal-data',
    env: { USERS: '20', AWARDS: '1', CLIENTS: '2', ROUNDS: '1' },
    writes: ['personal-data.json', 'personal-data.svg'],
    figure: (j) => j.results.encryptedAppendPerSec,
  },
  { script: 'bench:freeze', env: { HITS: '2000', ROUNDS: '1' }, writes: ['frozen-values.json'], figure: (j) => j.results[0].frozenHitNs },
  { script: 'bench:relay', env: { EVENTS: '2000', ROUNDS: '1' }, writes: ['relay.json', 'relay.svg'], figure: (j) => j.relayPerSec },
  {
    script: 'bench:snapshots',
    env: { AWARDS: '2000', EVERY: '10,50', ITERATIONS: '10', ROUNDS: '1', COMMANDS: '20' },
    writes: ['snapshots.json', 'snapshots.svg'],
    figure: (j) => j.results[0].loadMs,
  },
  { script: 'bench:unknown-ids', env: { IDS: '300', CONCURRENCY: '8' }, writes: ['unknown-ids.json'], figure: (j) => j.lookupsPerSecond },
  {
    script: 'bench:http',
    env: { CONNECTIONS: '2', DURATION_S: '1', ROUNDS: '1' },
    writes: ['cache-http.json', 'cache-http.svg'],
    figure: (j) => j.routes.bare.requestsPerSec,
  },
  {
    script: 'bench:tracing',
    env: { CONNECTIONS: '2', DURATION_S: '1', ROUNDS: '1' },
    writes: ['tracing-http.json'],
    figure: (j) => j.on,
  },
];

/** The npm script's own command line, run without npm's start-up cost (nine of them start at once). */
function commandOf(script: string): string[] {
  const scripts = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts as Record<string, string>;
  const [program, ...args] = scripts[script].split(/\s+/);
  if (program !== 'node') throw new Error(`${script} is not a plain node command: ${scripts[script]}`);
  return args;
}

function run(bench: Bench, out: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, commandOf(bench.script), {
      cwd: ROOT,
      env: { ...process.env, ...bench.env, BENCH_OUT: out },
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('exit', (code) => resolve({ code, output }));
  });
}

/** Name -> content of every published result, to prove the smoke run left them alone. */
function published(): Record<string, string> {
  return Object.fromEntries(readdirSync(PUBLISHED).map((f) => [f, readFileSync(join(PUBLISHED, f), 'utf8')]));
}

describe('benchmarks (smoke: tiny sizes, temporary output)', () => {
  it('covers every bench:* script', () => {
    const scripts = Object.keys(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts).filter((s) => s.startsWith('bench:'));
    expect(BENCHES.map((b) => b.script).sort()).toEqual(scripts.sort());
  });

  const before = published();
  const results = new Map<string, Promise<{ bench: Bench; code: number | null; output: string; dir: string }>>();

  beforeAll(() => {
    for (const bench of BENCHES) {
      const dir = mkdtempSync(join(tmpdir(), `smoke-${bench.script.replace(':', '-')}-`));
      results.set(
        bench.script,
        run(bench, dir).then((r) => ({ bench, dir, ...r })),
      );
    }
  });

  afterAll(async () => {
    for (const r of await Promise.all(results.values())) rmSync(r.dir, { recursive: true, force: true });
  });

  it.each(BENCHES.map((b) => [b.script]))(
    '%s runs and writes its JSON and chart',
    async (script) => {
      const { bench, code, output, dir } = await results.get(script)!;
      if (code !== 0) throw new Error(`${script} exited with ${code}:\n${output.slice(-3000)}`);
      for (const file of bench.writes) expect(statSync(join(dir, file)).size).toBeGreaterThan(0);
      const json = JSON.parse(readFileSync(join(dir, bench.writes[0]), 'utf8'));
      expect(bench.figure(json)).toBeGreaterThan(0);
    },
    170_000,
  );

  it('leaves the published results in docs/benchmarks untouched', async () => {
    await Promise.all(results.values());
    expect(published()).toEqual(before);
  }, 170_000);
});
