import { ConfigError, loadConfig } from './app-config';

describe('loadConfig', () => {
  it('applies defaults', () => {
    expect(loadConfig({})).toMatchObject({ PORT: 3000, LOG_LEVEL: 'log', EVENT_STORE_SCHEMA: 'event_store' });
    expect(loadConfig({}).DATABASE_URL).toBeUndefined();
    expect(loadConfig({}).HTTP_ADAPTER).toBe('fastify');
  });

  it('reads and converts values', () => {
    const c = loadConfig({
      PORT: '8080',
      DATABASE_URL: 'postgres://u@h:5432/db',
      PII_MASTER_KEY: 'ab'.repeat(32),
      ADMIN_TOKEN: 'x'.repeat(16),
      LOG_LEVEL: 'debug',
    });
    expect(c).toMatchObject({ PORT: 8080, DATABASE_URL: 'postgres://u@h:5432/db', LOG_LEVEL: 'debug' });
    expect(loadConfig({ HTTP_ADAPTER: 'express' }).HTTP_ADAPTER).toBe('express');
  });

  it('requires PII_MASTER_KEY whenever DATABASE_URL is set, and never shows it', () => {
    expect(() => loadConfig({ DATABASE_URL: 'postgres://u@h:5432/db' })).toThrow(
      /PII_MASTER_KEY \(value hidden\): PII_MASTER_KEY is required/,
    );
    expect(
      loadConfig({ DATABASE_URL: 'postgres://u@h/db', PII_MASTER_KEY: Buffer.alloc(32, 7).toString('base64') }).PII_MASTER_KEY,
    ).toBeDefined();
    expect(() => loadConfig({ PII_MASTER_KEY: 'not-a-key-but-secret' })).toThrow(
      /PII_MASTER_KEY \(value hidden\): PII_MASTER_KEY must be 32 bytes/,
    );
    expect(() => loadConfig({ PII_MASTER_KEY: 'not-a-key-but-secret' })).not.toThrow(/not-a-key/);
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['LOG_LEVEL', 'loud'],
    ['HTTP_ADAPTER', 'koa'],
    ['EVENT_STORE_SCHEMA', 'a;drop'],
    ['TRENDING_CACHE_TTL_MS', '-1'],
    ['TRENDING_MIN_COMPUTE_MS', 'slow'],
    ['RUN_PROJECTIONS', 'yes'],
    ['PROJECTION_LOCK_TIMEOUT_MS', '999'],
    ['PROJECTION_LOCK_TIMEOUT_MS', '600001'],
    ['EMBEDDED_PG_PORT', '0'],
    ['EMBEDDED_PG_DIR', ''],
    ['IDEMPOTENCY_TTL_MS', '1000'],
    ['WRITE_RATE_LIMIT', '-1'],
    ['WRITE_RATE_LIMIT_WINDOW_MS', '10'],
    ['TRUST_PROXY', 'yes'],
    ['METRICS_ACCESS', 'public'],
    ['DOCS_ACCESS', 'closed'],
    ['DATABASE_STATEMENT_TIMEOUT_MS', '-1'],
    ['DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS', 'soon'],
    ['AUTH_JWKS_URL', 'ftp://id.example/jwks'],
    ['AUTH_JWKS_TIMEOUT_MS', '50'],
  ])('rejects %s=%s with a message naming it, its value and the rule', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`${name}=${JSON.stringify(value)}: ${name} must`));
  });

  it.each([
    ['ADMIN_TOKEN', 'sh0rt-secret'],
    ['DATABASE_URL', 'mysql://admin:hunter2-password@db:3306/x'],
    ['REDIS_URL', 'http://:redis-s3cret@cache:6379'],
    ['AUTH_JWT_SECRET', 'sh0rt-hmac-key'],
  ])('names %s and its rule but never prints its value', (name, value) => {
    let message = '';
    try {
      loadConfig({ [name]: value });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(new RegExp(`${name} \\(value hidden\\): ${name} must`));
    expect(message).not.toContain(value);
    expect(message).not.toMatch(/hunter2|s3cret|sh0rt/);
  });

  it('reads the write-path settings', () => {
    expect(loadConfig({})).toMatchObject({
      IDEMPOTENCY_TTL_MS: 86_400_000,
      WRITE_RATE_LIMIT: 0,
      WRITE_RATE_LIMIT_WINDOW_MS: 60_000,
      TRUST_PROXY: 0,
      METRICS_ACCESS: 'open',
      DOCS_ACCESS: 'open',
    });
    expect(
      loadConfig({ IDEMPOTENCY_TTL_MS: '3600000', WRITE_RATE_LIMIT: '30', METRICS_ACCESS: 'admin', DOCS_ACCESS: 'off' }),
    ).toMatchObject({
      IDEMPOTENCY_TTL_MS: 3_600_000,
      WRITE_RATE_LIMIT: 30,
      METRICS_ACCESS: 'admin',
      DOCS_ACCESS: 'off',
    });
  });

  it('reads the cache and projection settings', () => {
    expect(loadConfig({ REDIS_URL: 'redis://r:6379', TRENDING_CACHE_TTL_MS: '500', RUN_PROJECTIONS: 'false' })).toMatchObject({
      REDIS_URL: 'redis://r:6379',
      TRENDING_CACHE_TTL_MS: 500,
      TRENDING_MIN_COMPUTE_MS: 0,
      RUN_PROJECTIONS: false,
      READ_YOUR_WRITES_TIMEOUT_MS: 2000,
    });
    expect(loadConfig({}).PROJECTION_LOCK_TIMEOUT_MS).toBe(10_000);
    expect(loadConfig({ PROJECTION_LOCK_TIMEOUT_MS: '2500' }).PROJECTION_LOCK_TIMEOUT_MS).toBe(2500);
  });

  it("reads the database timeouts, defaulting to the event store's", () => {
    expect(loadConfig({})).toMatchObject({ DATABASE_STATEMENT_TIMEOUT_MS: 30_000, DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: 10_000 });
    expect(loadConfig({ DATABASE_STATEMENT_TIMEOUT_MS: '5000', DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: '0' })).toMatchObject({
      DATABASE_STATEMENT_TIMEOUT_MS: 5000,
      DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: 0,
    });
  });

  it('reads the embedded PostgreSQL settings', () => {
    expect(loadConfig({})).toMatchObject({ EMBEDDED_PG_DIR: '.data/postgres', EMBEDDED_PG_PORT: 54329 });
    expect(loadConfig({ EMBEDDED_PG_DIR: '/var/pg', EMBEDDED_PG_PORT: '6000' })).toMatchObject({
      EMBEDDED_PG_DIR: '/var/pg',
      EMBEDDED_PG_PORT: 6000,
    });
  });

  it('reads the user auth settings: one key source, issuer and audience only with one', () => {
    const secret = 'k'.repeat(32);
    expect(loadConfig({}).AUTH_JWKS_TIMEOUT_MS).toBe(3000);
    expect(loadConfig({ AUTH_JWT_SECRET: secret, AUTH_JWT_ISSUER: 'https://id.example', AUTH_JWT_AUDIENCE: 'users' })).toMatchObject({
      AUTH_JWT_SECRET: secret,
      AUTH_JWT_ISSUER: 'https://id.example',
      AUTH_JWT_AUDIENCE: 'users',
    });
    expect(loadConfig({ AUTH_JWKS_URL: 'https://id.example/jwks.json', AUTH_JWKS_TIMEOUT_MS: '500' }).AUTH_JWKS_TIMEOUT_MS).toBe(500);
    expect(() => loadConfig({ AUTH_JWT_SECRET: secret, AUTH_JWKS_URL: 'https://id.example/jwks.json' })).toThrow(/not both/);
    expect(() => loadConfig({ AUTH_JWT_AUDIENCE: 'users' })).toThrow(/AUTH_JWT_AUDIENCE: needs AUTH_JWT_SECRET or AUTH_JWKS_URL/);
    expect(loadConfig({ AUTH_JWT_SECRET: '', AUTH_JWKS_URL: '' })).toMatchObject({ AUTH_JWT_SECRET: undefined, AUTH_JWKS_URL: undefined });
  });

  it('treats an empty optional variable as unset', () => {
    expect(loadConfig({ DATABASE_URL: '', ADMIN_TOKEN: '' })).toMatchObject({ DATABASE_URL: undefined, ADMIN_TOKEN: undefined });
  });
});
