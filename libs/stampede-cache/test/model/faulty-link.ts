import { createConnection, createServer, type Server, type Socket } from 'node:net';

/** What a link does to the bytes it carries now. */
export type LinkState = 'ok' | 'delayed' | 'frozen' | 'cut';

/** Bytes waiting to be forwarded in one direction, each with the time it may leave. */
interface Lane {
  to: Socket;
  queue: Array<{ at: number; chunk: Buffer }>;
  timer?: NodeJS.Timeout;
}

interface Connection {
  client: Socket;
  upstream: Socket;
  lanes: Lane[];
  /** A side closed while frozen: the other side is closed on thaw, as a frozen network would show it late. */
  closedWhileFrozen: boolean;
}

/**
 * One network link (an instance's command or subscriber connection to Redis) that a model
 * test can fault independently of every other: `delay(ms)` holds every byte that long (a
 * slow network or a slow Redis), `freeze()` forwards nothing and closes nothing (a peer or
 * network that went silent), `cut()` drops every connection and refuses new ones, `heal()`
 * undoes all of it. Unlike test/tcp-proxy.ts it can delay, and it keeps byte order while
 * delaying (a per-direction queue with release times).
 */
export class FaultyLink {
  private server?: Server;
  private readonly connections = new Set<Connection>();
  private delayMs = 0;
  private frozen = false;
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  get state(): LinkState {
    if (!this.server) return 'cut';
    if (this.frozen) return 'frozen';
    return this.delayMs > 0 ? 'delayed' : 'ok';
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(port = 0): Promise<number> {
    const server = createServer((client) => this.accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
    this.server = server;
    this.port = (server.address() as { port: number }).port;
    return this.port;
  }

  /** Bytes sent from now on arrive `ms` later (0: at once). */
  delay(ms: number): void {
    this.delayMs = ms;
  }

  freeze(): void {
    this.frozen = true;
  }

  /** Drops every connection and refuses new ones (the port stays reserved for {@link heal}). */
  async cut(): Promise<void> {
    this.frozen = false;
    for (const connection of this.connections) this.destroy(connection);
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** No delay, no freeze, listening again: a healthy link. */
  async heal(): Promise<void> {
    this.delayMs = 0;
    if (this.frozen) {
      this.frozen = false;
      for (const connection of this.connections) {
        if (connection.closedWhileFrozen) this.destroy(connection);
        else connection.lanes.forEach((lane) => this.pump(lane));
      }
    }
    if (!this.server) await this.start(this.port);
  }

  private accept(client: Socket): void {
    const upstream = createConnection({ host: this.targetHost, port: this.targetPort });
    const connection: Connection = {
      client,
      upstream,
      lanes: [
        { to: upstream, queue: [] },
        { to: client, queue: [] },
      ],
      closedWhileFrozen: false,
    };
    this.connections.add(connection);
    const [toUpstream, toClient] = connection.lanes;
    client.on('data', (chunk: Buffer) => this.enqueue(toUpstream, chunk));
    upstream.on('data', (chunk: Buffer) => this.enqueue(toClient, chunk));
    for (const socket of [client, upstream]) {
      socket.on('error', () => undefined);
      socket.on('close', () => this.closed(connection));
    }
  }

  private enqueue(lane: Lane, chunk: Buffer): void {
    lane.queue.push({ at: Date.now() + this.delayMs, chunk });
    this.pump(lane);
  }

  /** Forwards what is due, in order; wakes up again when the next chunk is. */
  private pump(lane: Lane): void {
    if (this.frozen || lane.timer) return;
    while (lane.queue.length > 0) {
      const wait = lane.queue[0].at - Date.now();
      if (wait > 0) {
        lane.timer = setTimeout(() => {
          lane.timer = undefined;
          this.pump(lane);
        }, wait);
        return;
      }
      if (!lane.to.destroyed) lane.to.write(lane.queue.shift()!.chunk);
      else lane.queue.shift();
    }
  }

  private closed(connection: Connection): void {
    if (this.frozen) connection.closedWhileFrozen = true;
    else this.destroy(connection);
  }

  private destroy(connection: Connection): void {
    for (const lane of connection.lanes) clearTimeout(lane.timer);
    connection.client.destroy();
    connection.upstream.destroy();
    this.connections.delete(connection);
  }
}
