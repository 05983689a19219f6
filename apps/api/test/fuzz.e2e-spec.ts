import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Client } from 'pg';
import { TEST_DATABASE_URL } from '@app/event-store/testing';
import { startTestApp, TestApp, TEST_ADMIN_TOKEN } from './test-app';

/** Requests per run: thousands by default; FUZZ_RUNS raises it for a longer hunt. */
const RUNS = Number(process.env.FUZZ_RUNS ?? 400);
const REQUESTS_PER_RUN = 5;
/** The only 5xx the API documents, each with Retry-After. */
const DOCUMENTED_503 = new Set(['READ_MODEL.NOT_CAUGHT_UP', 'DATABASE.UNAVAILABLE', 'CACHE.FACTORY_TIMEOUT']);

interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

/** Header values Node's HTTP client can send: tab, printable ASCII and Latin-1. */
const headerText = (maxLength: number) =>
  fc.string({
    unit: fc
      .integer({ min: 0x20, max: 0xff })
      .filter((c) => c !== 0x7f)
      .map((c) => String.fromCharCode(c)),
    maxLength,
  });

const scalar = fc.oneof(
  fc.string({ maxLength: 120 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 2 }),
);
const nameish = fc.oneof(
  fc.string({ maxLength: 120 }),
  fc.constantFrom('Ada', 'Lovelace', '', '   ', 'x'.repeat(101), 'a\u0000b', '\u{1F600}'),
  scalar,
);
const pointsish = fc.oneof(
  fc.integer({ min: -5, max: 1_000_005 }),
  fc.constantFrom(1, 10, 0, 1.5, '5', 1e308, -0, Number.MAX_SAFE_INTEGER),
  scalar,
);
const emailish = fc.oneof(fc.emailAddress(), fc.constantFrom('ada@example.com', 'ADA@EXAMPLE.COM', 'nope', ''), scalar);
const unknownKeys = fc.dictionary(fc.constantFrom('admin', 'id', '__proto__', 'constructor', 'version', 'x'), scalar, { maxKeys: 2 });

/** Bodies that pass validation, per route, so the fuzz reaches the handlers, the store and the idempotency paths too. */
const registration = fc.record({
  firstName: fc.constantFrom('Ada', 'Grace', ' Alan '),
  lastName: fc.constantFrom('', 'Hopper'),
  email: fc.emailAddress(),
});
const award = fc.record({ points: fc.integer({ min: 1, max: 100 }), reason: fc.constantFrom('fuzz', 'retry') });
const rename = fc.record({ firstName: fc.constantFrom('Ada', 'Grace'), lastName: fc.constantFrom('King', '') });
const validBody = fc.oneof(registration, award, rename);
const jsonBody = fc.oneof(
  { weight: 2, arbitrary: validBody },
  fc.record({ firstName: nameish, lastName: nameish, email: emailish }, { requiredKeys: [] }),
  fc.record({ points: pointsish, reason: nameish }, { requiredKeys: [] }),
  fc.tuple(fc.record({ firstName: nameish, lastName: nameish, email: emailish }), unknownKeys).map(([a, b]) => ({ ...b, ...a })),
  fc.record({ position: pointsish }, { requiredKeys: [] }),
  fc.jsonValue({ maxDepth: 3 }),
) as fc.Arbitrary<unknown>;
const rawBody = fc.oneof(
  { weight: 20, arbitrary: jsonBody.map((v) => JSON.stringify(v)) },
  { weight: 2, arbitrary: fc.string({ maxLength: 200 }) },
  { weight: 2, arbitrary: fc.constantFrom('', '{', '{"firstName":', '[1,2]', 'null', '"text"', '{"a":1}{"b":2}', '\u0000') },
  { weight: 1, arbitrary: fc.constant(JSON.stringify({ firstName: 'A'.repeat(70_000), lastName: 'B', email: 'big@example.com' })) },
);
/** Import bodies that are refused as a whole (no line is a valid event): nothing may be appended. */
const ndjsonBody = fc
  .array(
    fc.oneof(
      fc.string({ maxLength: 80 }),
      jsonBody.map((v) => JSON.stringify(v)),
    ),
    { maxLength: 4 },
  )
  .map((l) => l.join('\n'));

const id = (known: () => string[]) =>
  fc.oneof(
    { weight: 4, arbitrary: fc.constant(null).map(() => fc.sample(fc.constantFrom(...known()), 1)[0]) },
    { weight: 2, arbitrary: fc.uuid() },
    { weight: 2, arbitrary: fc.string({ maxLength: 40 }).map(encodeURIComponent) },
    { weight: 1, arbitrary: fc.constantFrom('%', '%E0%A4%A', '..', '%2F', 'a'.repeat(300), 'user-1') },
  );
const query = fc
  .dictionary(
    fc.oneof(fc.constantFrom('window', 'limit', 'fromVersion', 'nonce', 'window[]'), fc.string({ maxLength: 8 })),
    fc.oneof(fc.constantFrom('24h', '7d', '30d', '1', '100', '0', '-1', '1e3', 'abc', ''), fc.string({ maxLength: 12 })),
    { maxKeys: 3 },
  )
  .map((q) => {
    const text = Object.entries(q)
      .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
      .join('&');
    return text ? `?${text}` : '';
  });

const headers = fc.record(
  {
    'Idempotency-Key': fc.oneof(
      { weight: 3, arbitrary: fc.uuid() },
      { weight: 2, arbitrary: fc.constantFrom('k1', 'k2', 'k3', '"k1"') },
      { weight: 1, arbitrary: fc.oneof(fc.constantFrom('', 'a b', 'x'.repeat(256)), headerText(40)) },
    ),
    'If-Match': fc.oneof(fc.constantFrom('1', '"2"', 'W/"3"', '*', '999999999', '1234567890', ''), headerText(20)),
    'X-Min-Position': fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom('0', '1', '3', ' 2 ', '999999999') },
      { weight: 1, arbitrary: fc.oneof(fc.constantFrom('-1', '1.5', '1e3', '9'.repeat(20), ''), headerText(20)) },
    ),
    'Content-Type': fc.oneof(
      { weight: 12, arbitrary: fc.constant('application/json') },
      {
        weight: 1,
        arbitrary: fc.constantFrom(
          'application/json; charset=utf-8',
          'text/plain',
          'application/x-ndjson',
          'application/json; charset=latin-9',
          'multipart/form-data',
        ),
      },
    ),
    Authorization: fc.oneof(
      { weight: 4, arbitrary: fc.constant(`Bearer ${TEST_ADMIN_TOKEN}`) },
      { weight: 1, arbitrary: fc.oneof(fc.constantFrom('Bearer nope', 'Basic x', ''), headerText(30)) },
    ),
    'X-Correlation-Id': headerText(120),
  },
  { requiredKeys: ['Content-Type'] },
);

/** Every route of the API (and a few that do not exist), with generated parts; command routes often get a valid body. */
const fuzzRequest = (known: () => string[]): fc.Arbitrary<FuzzRequest> => {
  const u = id(known);
  const none = fc.constant(undefined);
  const route = fc.oneof(
    fc.tuple(fc.constant('POST'), fc.constant('/users'), registration),
    fc.tuple(
      fc.constant('PUT'),
      u.map((x) => `/users/${x}/name`),
      rename,
    ),
    fc.tuple(
      fc.constant('POST'),
      u.map((x) => `/users/${x}/points`),
      award,
    ),
    fc.tuple(
      fc.constant('GET'),
      u.map((x) => `/users/${x}`),
      none,
    ),
    fc.tuple(
      fc.constant('GET'),
      query.map((q) => `/leaderboard/trending${q}`),
      none,
    ),
    fc.tuple(
      fc.constant('GET'),
      fc.constantFrom(
        '/health/live',
        '/health/ready',
        '/metrics',
        '/docs-json',
        '/admin/projections',
        '/admin/events/export',
        '/admin/relay',
      ),
      none,
    ),
    fc.tuple(
      fc.constant('GET'),
      fc.tuple(u, query).map(([x, q]) => `/admin/streams/user-${x}/events${q}`),
      none,
    ),
    fc.tuple(fc.constant('POST'), fc.constantFrom('/admin/events/verify', '/admin/events/import'), none),
    fc.tuple(fc.constant('POST'), fc.constantFrom('/admin/relay/pause', '/admin/relay/resume', '/admin/relay/replay'), none),
    fc.tuple(
      fc.constant('POST'),
      fc
        .tuple(fc.constantFrom('user_profiles', 'points_ledger', 'nope', '%00'), fc.constantFrom('retry', 'skip', 'rebuild'))
        .map(([n, a]) => `/admin/projections/${n}/${a}`),
      none,
    ),
    fc.tuple(
      fc.constantFrom('DELETE', 'PATCH', 'OPTIONS', 'PUT'),
      fc.constantFrom('/users', '/leaderboard/trending', '/nope', '/users/x/points'),
      none,
    ),
  );
  return fc.tuple(route, headers, rawBody, ndjsonBody, fc.boolean()).map(([[method, path, valid], h, body, ndjson, useValid]) => ({
    method,
    path,
    headers: h,
    body:
      method === 'GET'
        ? undefined
        : path === '/admin/events/import' && h['Content-Type'] === 'application/x-ndjson'
          ? ndjson
          : valid && useValid
            ? JSON.stringify(valid)
            : body,
  }));
};

/**
 * A property-based fuzz of every endpoint on the real database: generated bodies,
 * headers (Idempotency-Key, If-Match, X-Min-Position, Content-Type, Authorization) and
 * query strings. Never a 5xx other than the documented 503s with Retry-After, always
 * problem+json on errors, and nothing appended to the log by a refused request.
 */
describe('fuzz: every endpoint (e2e, fast-check)', () => {
  let t: TestApp;
  let db: Client;
  let base = '';
  const known: string[] = [];
  const tally = { sent: 0, fiveXX: 0, documented503: 0, byStatus: new Map<number, number>() };
  const eventCount = async () => Number((await db.query(`SELECT count(*) FROM "${t.schema}".events`)).rows[0].count);

  beforeAll(async () => {
    t = await startTestApp({ READ_YOUR_WRITES_TIMEOUT_MS: '50', CACHE_NAMESPACE: `fz${randomBytes(4).toString('hex')}` });
    await t.app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
    db = new Client({ connectionString: TEST_DATABASE_URL });
    await db.connect();
    for (const name of ['Ada', 'Grace']) {
      const res = await fetch(`${base}/users`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ firstName: name, lastName: 'Seed', email: `${name.toLowerCase()}.seed@example.com` }),
      });
      known.push(((await res.json()) as { id: string }).id);
    }
  });
  afterAll(async () => {
    await db?.end();
    await t?.close();
    if (process.env.FUZZ_REPORT) {
      const statuses = [...tally.byStatus.entries()]
        .sort(([a], [b]) => a - b)
        .map(([s, n]) => `${s}:${n}`)
        .join(' ');
      process.stdout.write(
        `fuzz: ${tally.sent} requests, ${tally.fiveXX} 5xx (${tally.documented503} documented 503 with Retry-After); ${statuses}\n`,
      );
    }
  });

  const send = async (r: FuzzRequest) => {
    const res = await fetch(`${base}${r.path}`, { method: r.method, headers: r.headers, body: r.body });
    const text = await res.text();
    tally.sent++;
    tally.byStatus.set(res.status, (tally.byStatus.get(res.status) ?? 0) + 1);
    return { status: res.status, headers: res.headers, text };
  };

  it(`answers ${RUNS * REQUESTS_PER_RUN} generated requests without an undocumented 5xx, always problem+json, appending nothing when refusing`, async () => {
    // Requests run one at a time and nothing else writes, so the count after one request is the count before the next.
    let before = await eventCount();
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fuzzRequest(() => known),
          { minLength: REQUESTS_PER_RUN, maxLength: REQUESTS_PER_RUN },
        ),
        async (requests) => {
          for (const r of requests) {
            const res = await send(r);
            const after = await eventCount();
            const context = `${r.method} ${r.path} -> ${res.status} ${res.text.slice(0, 300)}`;
            if (res.status >= 500) {
              tally.fiveXX++;
              const code = (JSON.parse(res.text) as { code?: string }).code ?? '';
              if (res.status !== 503 || !DOCUMENTED_503.has(code) || !res.headers.get('retry-after'))
                throw new Error(`undocumented 5xx: ${context}`);
              tally.documented503++;
            }
            if (res.status >= 400) {
              if (!res.headers.get('content-type')?.startsWith('application/problem+json')) throw new Error(`not problem+json: ${context}`);
              const problem = JSON.parse(res.text) as { status?: number; code?: string };
              if (problem.status !== res.status || typeof problem.code !== 'string') throw new Error(`malformed problem: ${context}`);
              if (after !== before) throw new Error(`refused request appended ${after - before} event(s): ${context}`);
            }
            before = after;
            if (res.status === 201 && r.path === '/users') {
              const created = JSON.parse(res.text) as { id?: string };
              if (created.id && !known.includes(created.id) && known.length < 20) known.push(created.id);
            }
          }
        },
      ),
      { numRuns: RUNS, seed: process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined },
    );
    expect(tally.sent).toBeGreaterThanOrEqual(RUNS * REQUESTS_PER_RUN);
  });
});
