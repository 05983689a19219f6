import { Logger } from '@nestjs/common';
import type { ConnectionOptions, NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';

/**
 * The transport's `connect`, typed: its declarations re-export the core types through a subpath
 * (`@nats-io/nats-core/internal`) that this project's module resolution does not follow.
 */
const connectNats = connect as (options: ConnectionOptions) => Promise<NatsConnection>;

/** Pause between background connect attempts while NATS is away. */
const RETRY_CONNECT_MS = 1000;
/** How long a connect attempt may take before the caller (a relay step) fails and backs off. */
const CONNECT_TIMEOUT_MS = 2000;

/**
 * The one NATS connection of an app instance. It connects lazily and never blocks start-up: a
 * server that is away fails the caller's attempt (the relay backs off and tries again); once
 * connected, the client reconnects by itself for ever, and `up` says whether it is connected now
 * (readiness shows `degraded` while it is not).
 */
export class NatsLink {
  private connection?: NatsConnection;
  private connecting?: Promise<NatsConnection>;
  private connected = false;
  private closed = false;
  private retryTimer?: NodeJS.Timeout;
  private readonly logger = new Logger('Nats');

  constructor(
    private readonly url: string,
    private readonly name: string,
  ) {}

  /** True while connected to a server. */
  get up(): boolean {
    return this.connected;
  }

  /** The connection, connecting first when there is none. Rejects when the server does not answer within the connect timeout. */
  get(): Promise<NatsConnection> {
    if (this.closed) return Promise.reject(new Error('NATS link closed'));
    if (this.connection && !this.connection.isClosed()) return Promise.resolve(this.connection);
    return (this.connecting ??= this.open().finally(() => (this.connecting = undefined)));
  }

  /**
   * Connects in the background and keeps trying every second until connected (the client then
   * reconnects by itself): a standby instance's readiness shows NATS too, and start-up never waits.
   */
  keepConnected(): void {
    if (this.closed || this.retryTimer) return;
    this.get().then(
      () => undefined,
      () => {
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          this.keepConnected();
        }, RETRY_CONNECT_MS);
        this.retryTimer.unref();
      },
    );
  }

  /** Flushes and closes the connection (pending publishes are answered or fail). */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    const connection = this.connection ?? (await this.connecting?.catch(() => undefined));
    this.connection = undefined;
    this.connected = false;
    if (connection && !connection.isClosed()) await connection.close().catch(() => undefined);
  }

  private async open(): Promise<NatsConnection> {
    const connection = await connectNats({
      servers: this.url.split(','),
      name: this.name,
      timeout: CONNECT_TIMEOUT_MS,
      reconnect: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
    });
    if (this.closed) {
      await connection.close();
      throw new Error('NATS link closed');
    }
    this.connection = connection;
    this.connected = true;
    this.logger.log(`connected to ${connection.getServer()}`);
    void this.follow(connection);
    return connection;
  }

  /** Tracks disconnects and reconnects for `up`, and logs them (once each, not per retry). */
  private async follow(connection: NatsConnection): Promise<void> {
    for await (const s of connection.status()) {
      if (s.type === 'disconnect') {
        this.connected = false;
        this.logger.warn(`disconnected from ${s.server}: reconnecting`);
      } else if (s.type === 'reconnect') {
        this.connected = true;
        this.logger.log(`reconnected to ${s.server}`);
      }
    }
    if (connection === this.connection) {
      this.connected = false;
      this.connection = undefined;
      this.keepConnected();
    }
  }
}
