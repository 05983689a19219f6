import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, relative, resolve } from 'node:path';
import { parse } from 'yaml';
import { CONFIG_VARIABLES, loadConfig } from '../src/config/app-config';

/**
 * The deployment files agree with the app and with each other: compose wires
 * each API replica to the services it names, sets only variables the app reads,
 * and the Dockerfile exposes the port and runs the file the build produces.
 * No Docker engine needed: the files are read, not run.
 */
const ROOT = join(__dirname, '../../..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

const KNOWN_VARIABLES = new Set<string>(CONFIG_VARIABLES);

interface Service {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  environment?: Record<string, string | number | null> | string[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  healthcheck?: { test?: string | string[] };
  ports?: (string | number | { published?: string | number; target: number })[];
}

const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, Service> };
const services = compose.services;
const apiServices = Object.entries(services).filter(([, service]) => service.build !== undefined);

/** Compose's `${VAR:-default}` / `${VAR}` as they resolve with nothing exported. */
const interpolate = (value: string) => value.replace(/\$\{\w+(?::?-([^}]*))?\}/g, (_, fallback?: string) => fallback ?? '');

function envOf(service: Service): Record<string, string> {
  const raw = service.environment ?? {};
  const pairs = Array.isArray(raw) ? raw.map((line) => line.split(/=(.*)/s, 2)) : Object.entries(raw);
  return Object.fromEntries(pairs.map(([key, value]) => [key, interpolate(String(value ?? ''))]));
}

function portsOf(service: Service): { host?: number; container: number }[] {
  return (service.ports ?? []).map((port) => {
    if (typeof port === 'object')
      return { host: port.published === undefined ? undefined : Number(port.published), container: port.target };
    const parts = String(port).split(':');
    const container = Number(parts.at(-1));
    return { host: parts.length > 1 ? Number(parts.at(-2)) : undefined, container };
  });
}

const healthTest = (service: Service) => [service.healthcheck?.test ?? []].flat().join(' ');

/** Dockerfile instructions of the final stage, continuation lines joined, comments dropped. */
function finalStage(): { instruction: string; args: string }[] {
  const lines = read('Dockerfile')
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((l) => l.trim());
  const instructions = lines
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const [instruction, ...rest] = l.split(/\s+/);
      return { instruction: instruction.toUpperCase(), args: rest.join(' ') };
    });
  const lastFrom = instructions.map((i) => i.instruction).lastIndexOf('FROM');
  return instructions.slice(lastFrom);
}
const stage = finalStage();
const argsOf = (instruction: string) => stage.filter((i) => i.instruction === instruction).map((i) => i.args);
const execForm = (args: string): string[] => JSON.parse(args) as string[];

describe('docker-compose.yml', () => {
  const postgresEnv = envOf(services.postgres ?? {});

  it('runs PostgreSQL 16 and Redis 7, each with a health check', () => {
    expect(services.postgres?.image).toMatch(/^postgres:16/);
    expect(healthTest(services.postgres)).toContain('pg_isready');
    expect(services.redis?.image).toMatch(/^redis:7/);
    expect(healthTest(services.redis)).toContain('redis-cli ping');
  });

  it('runs NATS 2.9 with JetStream on a volume, with a health check', () => {
    const nats = services.nats ?? {};
    expect(nats.image).toMatch(/^nats:2\.9/);
    const command = [(nats as { command?: string | string[] }).command ?? []].flat().join(' ');
    expect(command).toMatch(/(^|\s)(-js|--jetstream)(\s|$)/);
    expect(command).toMatch(/(-sd|--store_dir) \/data/);
    expect((nats as { volumes?: string[] }).volumes?.some((v) => v.endsWith(':/data'))).toBe(true);
    expect(healthTest(nats)).toContain('/healthz');
  });

  it('runs at least two API replicas built from the root Dockerfile', () => {
    expect(apiServices.length).toBeGreaterThanOrEqual(2);
    for (const [, service] of apiServices) {
      const build = typeof service.build === 'string' ? { context: service.build } : service.build!;
      expect(resolve(ROOT, build.context ?? '.')).toBe(resolve(ROOT));
      expect(build.dockerfile ?? 'Dockerfile').toBe('Dockerfile');
      expect(existsSync(join(ROOT, 'Dockerfile'))).toBe(true);
    }
  });

  describe.each(apiServices)('%s', (_name, service) => {
    const env = envOf(service);

    it('starts only after PostgreSQL, Redis and NATS are healthy', () => {
      expect(service.depends_on).toMatchObject({
        postgres: { condition: 'service_healthy' },
        redis: { condition: 'service_healthy' },
        nats: { condition: 'service_healthy' },
      });
    });

    it('publishes integration events to the nats service (the relay is on)', () => {
      const url = new URL(env.NATS_URL);
      expect(url.protocol).toBe('nats:');
      expect(url.hostname).toBe('nats');
      expect(url.port || '4222').toBe('4222');
    });

    it('sets only variables the app reads, with values its validation accepts', () => {
      expect(Object.keys(env).filter((key) => !KNOWN_VARIABLES.has(key))).toEqual([]);
      expect(() => loadConfig(env)).not.toThrow();
    });

    it('reaches the postgres service on its port and database, with its credentials', () => {
      const url = new URL(env.DATABASE_URL);
      expect(url.protocol).toMatch(/^postgres(ql)?:$/);
      expect(url.hostname).toBe('postgres');
      expect(url.port).toBe('5432');
      expect(url.pathname.slice(1)).toBe(postgresEnv.POSTGRES_DB);
      expect(decodeURIComponent(url.username)).toBe(postgresEnv.POSTGRES_USER ?? 'postgres');
      expect(decodeURIComponent(url.password)).toBe(postgresEnv.POSTGRES_PASSWORD);
    });

    it('reaches the redis service', () => {
      const url = new URL(env.REDIS_URL);
      expect(url.protocol).toBe('redis:');
      expect(url.hostname).toBe('redis');
      expect(url.port || '6379').toBe('6379');
    });

    it('publishes the port the app listens on and checks readiness on it', () => {
      const ports = portsOf(service);
      expect(ports.length).toBeGreaterThan(0);
      for (const port of ports) expect(port.container).toBe(Number(env.PORT));
      const check = healthTest(service);
      expect(check).toContain('/health/ready');
      expect(check.includes('process.env.PORT') || check.includes(`:${env.PORT}/`)).toBe(true);
    });
  });

  it('gives every published port its own host port', () => {
    const hostPorts = Object.values(services)
      .flatMap((s) => portsOf(s).map((p) => p.host))
      .filter((p) => p !== undefined);
    expect(new Set(hostPorts).size).toBe(hostPorts.length);
  });
});

describe('Dockerfile (final stage)', () => {
  it('exposes the port the API services set in compose', () => {
    const ports = new Set(apiServices.map(([, s]) => envOf(s).PORT));
    expect([...ports]).toHaveLength(1);
    expect(argsOf('EXPOSE').join(' ').split(/\s+/)).toContain([...ports][0]);
  });

  it('runs the file that start:prod runs, which is where the build writes main.js', () => {
    const startProd = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts['start:prod'];
    const cmd = execForm(argsOf('CMD').at(-1)!);
    expect(cmd).toEqual(startProd.trim().split(/\s+/));

    const appTsconfig = JSON.parse(read('apps/api/tsconfig.app.json')) as { compilerOptions: { outDir: string; rootDir: string } };
    const appDir = join(ROOT, 'apps/api');
    const mainJs = relative(resolve(appDir, appTsconfig.compilerOptions.rootDir), join(appDir, 'src/main.ts')).replace(/\.ts$/, '.js');
    expect(relative(ROOT, join(resolve(appDir, appTsconfig.compilerOptions.outDir), mainJs))).toBe(cmd[1]);
  });

  it('runs as a non-root user with production dependencies only', () => {
    expect(argsOf('USER').at(-1)).toMatch(/^(?!root$|0$)\S+/);
    expect(argsOf('RUN').join(' ')).toMatch(/npm ci [^&]*--omit=dev/);
  });
});

describe('readiness checks (compose and Dockerfile)', () => {
  const dockerfileCheck = execForm(
    argsOf('HEALTHCHECK')
      .at(-1)!
      .replace(/^(--\S+\s+)*CMD\s+/, ''),
  );
  const composeChecks = apiServices.map(([, s]) => [s.healthcheck?.test ?? []].flat().filter((part) => part !== 'CMD'));
  const scripts = [...new Set([dockerfileCheck, ...composeChecks].map((argv) => JSON.stringify(argv)))].map(
    (s) => JSON.parse(s) as string[],
  );
  let status = 200;
  let server: Server;
  let port: number;

  beforeAll(async () => {
    server = createServer((req, res) => res.writeHead(req.url === '/health/ready' ? status : 404).end());
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((done) => server.close(() => done())));

  /** Runs a check the way Docker does (exec form, container env) and returns its exit code. */
  const runCheck = ([command, ...args]: string[]) =>
    new Promise<number>((done) => {
      const binary = command === 'node' ? process.execPath : command;
      execFile(binary, args, { env: { ...process.env, PORT: String(port) }, timeout: 10_000 }, (error) =>
        done(error ? Number(error.code ?? 1) : 0),
      );
    });

  it.each([200, 503])('exit with 0 only when /health/ready answers 200 (answer %i)', async (answer) => {
    status = answer;
    for (const script of scripts) expect(await runCheck(script)).toBe(answer === 200 ? 0 : 1);
  });
});
