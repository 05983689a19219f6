import { Logger } from '@nestjs/common';
import { Client } from 'pg';

/** How the listener notices a connection that went silent. */
export interface ListenerLiveness {
  /** Ping the idle connection this often, in ms. */
  pingEveryMs: number;
  /** A ping (or the connect and LISTEN) not answered within this, in ms, drops the connection and reconnects. */
  answerWithinMs: number;
}

/**
 * Defaults: an idle LISTEN connection has no traffic of its own, so without a
 * ping a frozen link (a NAT that forgot the flow, a peer that froze) would
 * leave it deaf for good while it looks connected.
 */
export const DEFAULT_LISTENER_LIVENESS: ListenerLiveness = { pingEveryMs: 5_000, answerWithinMs: 5_000 };

/**
 * LISTENs on the append channel and calls `onAppend` for each notification.
 * On any failure, or a ping not answered in time, it drops the connection and
 * reconnects a second later; the runners keep polling meanwhile.
 */
export class AppendListener {
  private client?: Client;
  private closed = true;
  private pinger?: NodeJS.Timeout;
  private pinging = false;
  private readonly logger = new Logger('Projections');

  constructor(
    private readonly url: string,
    private readonly channel: string,
    private readonly onAppend: () => void,
    private readonly liveness: ListenerLiveness = DEFAULT_LISTENER_LIVENESS,
  ) {}

  /** True while a connection is LISTENing (as far as the last ping knows). */
  get listening(): boolean {
    return this.client !== undefined;
  }

  async start(): Promise<void> {
    this.closed = false;
    await this.listen();
  }

  /** Stops listening; a goodbye that the server does not answer in time is not waited for. */
  async stop(): Promise<void> {
    this.closed = true;
    const client = this.client;
    this.drop();
    if (client) await this.within(client.end(), client).catch(() => undefined);
  }

  private async listen(): Promise<void> {
    if (this.closed) return;
    const client = new Client({
      connectionString: this.url,
      application_name: 'event-store-listener',
      keepAlive: true,
      keepAliveInitialDelayMillis: this.liveness.pingEveryMs,
      connectionTimeoutMillis: this.liveness.answerWithinMs,
    });
    client.on('notification', () => this.onAppend());
    client.on('error', () => undefined);
    client.on('end', () => {
      if (client === this.client) this.drop();
      if (!this.closed) setTimeout(() => void this.listen().catch(() => undefined), 1000).unref();
    });
    try {
      await client.connect();
      await this.within(client.query(`LISTEN "${this.channel.replace(/"/g, '""')}"`), client);
      if (this.closed) {
        client.connection.stream.destroy(); // stopped while connecting
        return;
      }
      this.client = client;
      this.pinger = setInterval(() => void this.ping(client), this.liveness.pingEveryMs);
      this.pinger.unref();
    } catch (error) {
      this.logger.warn(`LISTEN failed (${(error as Error).message}); polling until it reconnects`);
      client.connection.stream.destroy();
    }
  }

  private async ping(client: Client): Promise<void> {
    if (this.pinging) return; // the ping in flight has its own deadline
    this.pinging = true;
    try {
      await this.within(client.query('SELECT 1'), client);
    } catch {
      if (client === this.client) this.logger.warn('LISTEN connection did not answer a ping; reconnecting');
    } finally {
      this.pinging = false;
    }
  }

  /** `work`, or a rejection once `answerWithinMs` passed, after destroying `client`'s socket (its 'end' then reconnects). */
  private async within<T>(work: Promise<T>, client: Client): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        client.connection.stream.destroy();
        reject(new Error('no answer from the database'));
      }, this.liveness.answerWithinMs);
    });
    try {
      return await Promise.race([work, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  private drop(): void {
    clearInterval(this.pinger);
    this.pinger = undefined;
    this.client = undefined;
  }
}
