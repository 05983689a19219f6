import { plainToInstance, Transform } from 'class-transformer';
import {
  getMetadataStorage,
  IsDefined,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  MinLength,
  ValidateIf,
  validateSync,
} from 'class-validator';
import { DEFAULT_IDLE_IN_TRANSACTION_TIMEOUT_MS, DEFAULT_STATEMENT_TIMEOUT_MS } from '@app/event-store';
import { checkAuthCombination } from './auth-combination';
import { ConfigError } from './config-error';
import { STREAM_RETENTIONS, type StreamRetention } from '../integration/stream-retention';

const toInt = ({ value }: { value: unknown }) => (value === undefined || value === '' ? undefined : Number(value));
const emptyToUndefined = ({ value }: { value: unknown }) => (value === '' ? undefined : value);
/** 'true' and 'false' as booleans; anything else (undefined included) is left as it is, for the validators. */
const toBoolean = ({ value }: { value: unknown }) => (value === 'true' ? true : value === 'false' ? false : value);

/** 64 hex digits, or base64 of 32 bytes (44 characters ending in one `=`). */
const MASTER_KEY_PATTERN = /^(?:[0-9a-fA-F]{64}|[A-Za-z0-9+/]{43}=)$/;

/** Log levels accepted by LOG_LEVEL, most to least verbose. */
export const LOG_LEVELS = ['verbose', 'debug', 'log', 'warn', 'error', 'fatal'] as const;
export type LogLevelName = (typeof LOG_LEVELS)[number];

/** Who may read an operational endpoint (/metrics, /docs). */
export const ACCESS_MODES = ['open', 'admin', 'off'];
export type AccessMode = 'open' | 'admin' | 'off';

/** HTTP platforms the service runs on (see docs/adr/0003-http-adapter.md). */
export const HTTP_ADAPTERS = ['express', 'fastify'] as const;
export type HttpAdapterName = (typeof HTTP_ADAPTERS)[number];

/** Variables whose values never appear in messages: a token, and URLs that may carry a password. */
const SECRET_VARIABLES = new Set(['ADMIN_TOKEN', 'DATABASE_URL', 'REDIS_URL', 'AUTH_JWT_SECRET', 'NATS_URL', 'PII_MASTER_KEY']);

/**
 * The service's configuration, read from the environment and validated at
 * start. A bad value stops start-up with a message naming the variable and the
 * rule (never the value of a secret: ADMIN_TOKEN, DATABASE_URL, REDIS_URL, AUTH_JWT_SECRET, NATS_URL, PII_MASTER_KEY).
 * Every variable is documented in the configuration table in docs/operations.md.
 */
export class AppConfig {
  /** HTTP port. */
  @Transform(toInt) @IsInt() @Min(0) @Max(65535) PORT: number = 3000;

  /** HTTP platform under Nest: `fastify` (faster here, see ADR 0003) or `express`; both answer the same HTTP contract. */
  @IsIn(HTTP_ADAPTERS, { message: 'HTTP_ADAPTER must be express or fastify' }) HTTP_ADAPTER: HttpAdapterName = 'fastify';

  /** PostgreSQL URL. Unset: an embedded PostgreSQL is started with data under ./.data/. */
  @Transform(emptyToUndefined)
  @IsOptional()
  @Matches(/^postgres(ql)?:\/\/\S+$/, { message: 'DATABASE_URL must be a postgres:// URL' })
  DATABASE_URL?: string;

  /**
   * Master key that wraps the per-person data keys of personal fields: 32 bytes as 64 hex
   * digits or base64. Required whenever DATABASE_URL is set (replicas must share it); for the
   * embedded default it is generated into the data directory (with a warning).
   */
  @Transform(emptyToUndefined)
  @ValidateIf((c: AppConfig) => c.DATABASE_URL !== undefined || c.PII_MASTER_KEY !== undefined)
  @IsDefined({ message: 'PII_MASTER_KEY is required when DATABASE_URL is set (every replica needs the same key)' })
  @Matches(MASTER_KEY_PATTERN, { message: 'PII_MASTER_KEY must be 32 bytes: 64 hex digits or 44 characters of base64' })
  PII_MASTER_KEY?: string;

  /** Bearer token for /admin endpoints. Unset: admin endpoints answer 403. */
  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  @MinLength(16, { message: 'ADMIN_TOKEN must be at least 16 characters' })
  ADMIN_TOKEN?: string;

  /** Minimum level that is logged. */
  @IsIn(LOG_LEVELS) LOG_LEVEL: LogLevelName = 'log';

  /** `json`: one JSON object per line (default); `pretty`: pino-pretty's readable lines, for a person at a terminal. */
  @IsIn(['json', 'pretty'], { message: 'LOG_FORMAT must be json or pretty' }) LOG_FORMAT: 'json' | 'pretty' = 'json';

  /** Schema that holds the event log. */
  @Matches(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, { message: 'EVENT_STORE_SCHEMA must be a plain SQL identifier' })
  EVENT_STORE_SCHEMA: string = 'event_store';

  /** Redis for the shared (L2) cache, locks and cross-instance invalidation. Unset: in-process cache only. */
  @Transform(emptyToUndefined)
  @IsOptional()
  @Matches(/^rediss?:\/\/\S+$/, { message: 'REDIS_URL must be a redis:// or rediss:// URL' })
  REDIS_URL?: string;

  /** Prefix of every Redis key and channel this service uses. */
  @Matches(/^[A-Za-z0-9_.-]{1,40}$/, { message: 'CACHE_NAMESPACE must be 1-40 letters, digits, _ . -' })
  CACHE_NAMESPACE: string = 'api';

  /** Logical TTL of the trending leaderboard cache entry, in ms. */
  @Transform(toInt) @IsInt() @Min(100) @Max(86_400_000) TRENDING_CACHE_TTL_MS: number = 30_000;

  /** Each trending recompute takes at least this long, in ms (demonstrates a slow origin). */
  @Transform(toInt) @IsInt() @Min(0) @Max(60_000) TRENDING_MIN_COMPUTE_MS: number = 0;

  /** Logical TTL of cached user profiles, in ms (writes invalidate them at once). */
  @Transform(toInt) @IsInt() @Min(100) @Max(86_400_000) USER_CACHE_TTL_MS: number = 60_000;

  /** Longest wait of a read with X-Min-Position for the read model to catch up, in ms (then 503). */
  @Transform(toInt) @IsInt() @Min(0) @Max(30_000) READ_YOUR_WRITES_TIMEOUT_MS: number = 2000;

  /** Run projection runners in this instance (one instance per projection is active at a time). */
  @Transform(toBoolean)
  @IsIn([true, false], { message: 'RUN_PROJECTIONS must be true or false' })
  RUN_PROJECTIONS: boolean = true;

  /** How long a vanished or frozen holder of a projection's lock keeps it before a standby may take over, in ms. */
  @Transform(toInt) @IsInt() @Min(1000) @Max(600_000) PROJECTION_LOCK_TIMEOUT_MS: number = 10_000;

  /** Largest JSON request body, in bytes (bigger bodies get 413). */
  @Transform(toInt) @IsInt() @Min(1024) @Max(10 * 1024 * 1024) BODY_LIMIT_BYTES: number = 64 * 1024;

  /** Embedded PostgreSQL only (DATABASE_URL unset): its data directory, relative to the working directory. */
  @IsString() @MinLength(1, { message: 'EMBEDDED_PG_DIR must not be empty' }) EMBEDDED_PG_DIR: string = '.data/postgres';

  /** Embedded PostgreSQL only: its port on 127.0.0.1; the CLIs reuse a server already listening there. */
  @Transform(toInt) @IsInt() @Min(1) @Max(65535) EMBEDDED_PG_PORT: number = 54329;

  /** How long an Idempotency-Key and its stored response are kept, in ms (1 min to 30 days; longer than the 30 s claim lease). */
  @Transform(toInt) @IsInt() @Min(60_000) @Max(30 * 86_400_000) IDEMPOTENCY_TTL_MS: number = 86_400_000;

  /** Writes (POST/PUT/PATCH/DELETE) allowed per client IP per window, across instances (Redis). 0 = no limit. */
  @Transform(toInt) @IsInt() @Min(0) @Max(1_000_000) WRITE_RATE_LIMIT: number = 0;

  /** Window of WRITE_RATE_LIMIT, in ms. */
  @Transform(toInt) @IsInt() @Min(1000) @Max(86_400_000) WRITE_RATE_LIMIT_WINDOW_MS: number = 60_000;

  /** Reverse proxies in front of the service whose X-Forwarded-For is trusted for the client IP (0 = use the socket address). */
  @Transform(toInt) @IsInt() @Min(0) @Max(10) TRUST_PROXY: number = 0;

  /**
   * Server-side statement timeout of the event store's pooled connections, in ms (0 = the server's
   * setting). A statement past it fails with EVENT_STORE.TIMEOUT (503 with Retry-After). Migrations
   * and imports run without it.
   */
  @Transform(toInt) @IsInt() @Min(0) @Max(86_400_000) DATABASE_STATEMENT_TIMEOUT_MS: number = DEFAULT_STATEMENT_TIMEOUT_MS;

  /** Idle-in-transaction timeout of the event store's pooled connections, in ms (0 = the server's setting). */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(86_400_000)
  DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: number = DEFAULT_IDLE_IN_TRANSACTION_TIMEOUT_MS;

  /**
   * A User is snapshotted after a load that replayed this many events past its last snapshot,
   * so a load replays at most this many minus one plus what was appended since (0 = no snapshots).
   */
  @Transform(toInt) @IsInt() @Min(0) @Max(1_000_000) SNAPSHOT_EVERY: number = 50;

  /** Who may read /metrics: `open`, `admin` (Bearer ADMIN_TOKEN) or `off` (404). */
  @IsIn(ACCESS_MODES, { message: 'METRICS_ACCESS must be open, admin or off' }) METRICS_ACCESS: AccessMode = 'open';

  /** Who may read /docs and /docs-json: `open`, `admin` (Bearer ADMIN_TOKEN) or `off` (404). */
  @IsIn(ACCESS_MODES, { message: 'DOCS_ACCESS must be open, admin or off' }) DOCS_ACCESS: AccessMode = 'open';

  /** HS256 key of user tokens (JWT, `sub` = user id). Set this or AUTH_JWKS_URL to turn user auth on. */
  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  @MinLength(32, { message: 'AUTH_JWT_SECRET must be at least 32 characters (256 bits for HS256)' })
  AUTH_JWT_SECRET?: string;

  /** JSON Web Key Set of the identity provider that signs user tokens (asymmetric algorithms). */
  @Transform(emptyToUndefined)
  @IsOptional()
  @Matches(/^https?:\/\/\S+$/, { message: 'AUTH_JWKS_URL must be an http:// or https:// URL' })
  AUTH_JWKS_URL?: string;

  /** When set, a user token's `iss` must equal it. */
  @Transform(emptyToUndefined) @IsOptional() @IsString() AUTH_JWT_ISSUER?: string;

  /** When set, a user token's `aud` must contain it. */
  @Transform(emptyToUndefined) @IsOptional() @IsString() AUTH_JWT_AUDIENCE?: string;

  /** Longest wait for the JWKS document, in ms; a request that needs keys it cannot get answers 503. */
  @Transform(toInt) @IsInt() @Min(100) @Max(30_000) AUTH_JWKS_TIMEOUT_MS: number = 3000;
  /** NATS with JetStream for integration events (the outbox relay). Unset: the relay is off. */
  @Transform(emptyToUndefined)
  @IsOptional()
  @Matches(/^(nats|tls):\/\/\S+(,(nats|tls):\/\/\S+)*$/, { message: 'NATS_URL must be nats:// or tls:// URLs, comma-separated' })
  NATS_URL?: string;

  /** First token of every integration subject: `<NATS_NAMESPACE>.events.<stream type>.<event type>`. */
  @Matches(/^[A-Za-z0-9_-]{1,40}$/, { message: 'NATS_NAMESPACE must be 1-40 letters, digits, _ -' }) NATS_NAMESPACE: string = 'api';

  /** The JetStream stream the relay publishes to (created at start when missing, on `<NATS_NAMESPACE>.events.>`). */
  @Matches(/^[A-Za-z0-9_-]{1,64}$/, { message: 'NATS_STREAM must be 1-64 letters, digits, _ -' }) NATS_STREAM: string = 'API_EVENTS';

  /** Retention of a stream the relay creates: `limits`, `interest` or `workqueue`. */
  @IsIn(STREAM_RETENTIONS, { message: 'NATS_STREAM_RETENTION must be limits, interest or workqueue' })
  NATS_STREAM_RETENTION: StreamRetention = 'limits';

  /** Oldest message a stream the relay creates keeps, in ms (0 = no age limit). */
  @Transform(toInt) @IsInt() @Min(0) @Max(10 * 365 * 86_400_000) NATS_STREAM_MAX_AGE_MS: number = 0;

  /** Duplicate window of a stream the relay creates, in ms: a re-send of an event id within it is dropped. */
  @Transform(toInt) @IsInt() @Min(1000) @Max(7 * 86_400_000) NATS_DUPLICATE_WINDOW_MS: number = 120_000;

  /** How long the relay waits for the stream's ack of a publish before it backs off and asks the stream where it stands, in ms. */
  @Transform(toInt) @IsInt() @Min(100) @Max(60_000) NATS_PUBLISH_TIMEOUT_MS: number = 5000;
}

export { ConfigError };

/**
 * Every environment variable the service reads (a public contract: see README): the validated
 * properties of {@link AppConfig}, read from class-validator's metadata so the list cannot drift.
 */
export const CONFIG_VARIABLES: readonly string[] = [
  ...new Set(
    getMetadataStorage()
      .getTargetValidationMetadatas(AppConfig, '', true, false)
      .map((m) => m.propertyName),
  ),
];

/** Reads and validates configuration from `env` (default: process.env). */
export function loadConfig(env: Record<string, string | undefined> = process.env): AppConfig {
  const picked = Object.fromEntries(CONFIG_VARIABLES.filter((k) => env[k] !== undefined).map((k) => [k, env[k]]));
  const config = plainToInstance(AppConfig, picked, { exposeDefaultValues: true });
  const errors = validateSync(config);
  if (errors.length) {
    const lines = errors.map((e) => {
      const shown = SECRET_VARIABLES.has(e.property) ? ' (value hidden)' : `=${JSON.stringify(picked[e.property])}`;
      return `  ${e.property}${shown}: ${Object.values(e.constraints ?? {}).join(', ')}`;
    });
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  checkAuthCombination(config);
  return config;
}
