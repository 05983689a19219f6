import { Socket } from 'node:net';
import { Client, type QueryResult, type QueryResultRow } from 'pg';
import type { Queryable } from '../../postgres/queryable';
import { pgQueryable } from '../../postgres/queryable-adapters';
import type { Clock } from '../clock';
import { LockHeartbeat } from './lock-heartbeat';

export interface LockConnectionOptions {
  url: string;
  /** First key of the advisory lock; the second is `hashtext(name)`. */
  lockClass: number;
  name: string;
  /** How long a vanished or frozen holder keeps the lock (see `lockSessionSettings`). */
  boundMs: number;
  clock: Clock;
}

const TRY_LOCK = 'SELECT pg_try_advisory_lock($1, hashtext($2)) AS locked';
const UNLOCK = 'SELECT pg_advisory_unlock($1, hashtext($2)) AS unlocked';
const PING = 'SELECT 1';
/** Only settings this server knows: `idle_session_timeout` needs PostgreSQL 14. */
const APPLY_SETTINGS = `SELECT set_config(s.name, s.value, false) FROM unnest($1::text[], $2::text[]) AS s(name, value)
  WHERE s.name IN (SELECT name FROM pg_settings)`;

/**
 * Server-side session settings that bound how long PostgreSQL keeps a lost
 * holder's session (and so its session advisory lock): an idle session or an
 * idle transaction ends after the bound, unacknowledged sends give up after
 * it, and keepalives probe a silent peer within it.
 */
export function lockSessionSettings(boundMs: number): Record<string, string> {
  const seconds = (fraction: number) => String(Math.max(1, Math.floor((boundMs * fraction) / 1000)));
  return {
    idle_session_timeout: String(boundMs),
    idle_in_transaction_session_timeout: String(boundMs),
    tcp_user_timeout: String(boundMs),
    tcp_keepalives_idle: seconds(1 / 2),
    tcp_keepalives_interval: seconds(1 / 6),
    tcp_keepalives_count: '3',
  };
}

/**
 * The connection that holds a projection's session advisory lock. It is a
 * plain `pg` Client of its own, outside the pool: a connection that may still
 * hold the lock is never handed to anyone else, and discarding it is just
 * destroying its socket (the server then ends the session and frees the lock).
 * Every write of the projection runs on it, so a holder that lost its session
 * can no longer commit anything.
 */
export class LockConnection {
  private client?: Client;
  private socket?: Socket;
  private holding = false;
  private inFlight = 0;
  private lastActivityAt = 0;
  private readonly heartbeat: LockHeartbeat;
  /** Runs statements on the lock connection, while it holds the lock. */
  readonly sql: Queryable = pgQueryable((text, params) => this.run(text, params));

  constructor(private readonly o: LockConnectionOptions) {
    this.heartbeat = new LockHeartbeat({
      clock: o.clock,
      boundMs: o.boundMs,
      ping: () => this.run(PING),
      busy: () => this.inFlight > 0,
      lastActivity: () => this.lastActivityAt,
      onDead: () => this.discard(),
    });
  }

  /** True while this connection holds the lock (as far as this process knows). */
  get held(): boolean {
    return this.holding;
  }

  /** Takes the lock if free; connects (again) first when needed. */
  async tryAcquire(): Promise<boolean> {
    if (this.holding) return true;
    const client = this.client ?? (await this.connect());
    const [{ locked }] = (await this.query<{ locked: boolean }>(client, TRY_LOCK, [this.o.lockClass, this.o.name])).rows;
    this.holding = locked === true;
    if (this.holding) this.heartbeat.start();
    return this.holding;
  }

  /**
   * Lets the lock go; when that cannot be confirmed within the bound (the link
   * may be frozen), discards the connection: its session ends, and the lock with it.
   */
  async release(): Promise<void> {
    if (!this.holding) return;
    this.holding = false;
    this.heartbeat.stop();
    const client = this.client;
    if (!client) return;
    const unlock = this.query(client, 'ROLLBACK')
      .then(() => this.query<{ unlocked: boolean }>(client, UNLOCK, [this.o.lockClass, this.o.name]))
      .then(
        (r) => r.rows[0]?.unlocked === true,
        () => false,
      );
    const gaveUp = new Promise<false>((resolve) => this.o.clock.setTimeout(() => resolve(false), this.o.boundMs));
    if (!(await Promise.race([unlock, gaveUp]))) this.discard();
  }

  /** Drops the connection at once, without waiting for the server. */
  discard(): void {
    this.holding = false;
    this.heartbeat.stop();
    this.socket?.destroy();
    this.client = undefined;
    this.socket = undefined;
  }

  /** Releases the lock and closes the connection; a link that does not answer within the bound is dropped. */
  async close(): Promise<void> {
    await this.release();
    const client = this.client;
    this.client = undefined;
    if (client) {
      const ended = client.end().catch(() => undefined);
      await Promise.race([ended, new Promise<void>((resolve) => this.o.clock.setTimeout(resolve, this.o.boundMs))]);
    }
    this.discard();
  }

  private async connect(): Promise<Client> {
    const client = new Client({
      connectionString: this.o.url,
      application_name: `projection-lock:${this.o.name}`,
      keepAlive: true,
      keepAliveInitialDelayMillis: Math.ceil(this.o.boundMs / 2),
      connectionTimeoutMillis: Math.max(this.o.boundMs, 5000),
      // Our own socket, so discarding the connection is a supported `destroy()`.
      stream: () => (this.socket = new Socket()),
    });
    client.on('error', () => client === this.client && this.discard());
    client.on('end', () => client === this.client && this.discard());
    try {
      await client.connect();
      const settings = lockSessionSettings(this.o.boundMs);
      await this.query(client, APPLY_SETTINGS, [Object.keys(settings), Object.values(settings)]);
    } catch (error) {
      this.socket?.destroy();
      this.socket = undefined;
      throw error;
    }
    this.client = client;
    return client;
  }

  private run(text: string, params?: unknown[]): Promise<QueryResult> {
    if (!this.client || !this.holding) throw new Error('Projection lock connection lost');
    return this.query(this.client, text, params);
  }

  private async query<R extends QueryResultRow = Record<string, unknown>>(
    client: Client,
    text: string,
    params?: unknown[],
  ): Promise<QueryResult<R>> {
    this.inFlight++;
    this.lastActivityAt = this.o.clock.now();
    try {
      return await client.query<R>(text, params);
    } finally {
      this.inFlight--;
      this.lastActivityAt = this.o.clock.now();
    }
  }
}
