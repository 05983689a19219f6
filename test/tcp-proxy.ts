import { createConnection, createServer, type Server, type Socket } from 'node:net';

interface Link {
  client: Socket;
  upstream: Socket;
  /** Bytes held back while frozen, per direction, in order. */
  held: Array<[Socket, Buffer]>;
}

/**
 * A TCP proxy a test puts between a client and a server (PostgreSQL, Redis) to stand for
 * the network: `cut()` closes every connection and refuses new ones (the server is
 * unreachable); `freeze()` keeps the sockets open but forwards nothing (a frozen peer, or
 * a partition, that no socket error reveals) until `thaw()` delivers what was held back.
 */
export class TcpProxy {
  private server?: Server;
  private readonly links = new Set<Link>();
  private frozen = false;
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  async start(port = 0): Promise<number> {
    this.server = createServer((client) => {
      const upstream = createConnection({ host: this.targetHost, port: this.targetPort });
      const link: Link = { client, upstream, held: [] };
      this.links.add(link);
      this.forward(link, client, upstream);
      this.forward(link, upstream, client);
      const close = () => {
        this.links.delete(link);
        client.destroy();
        upstream.destroy();
      };
      for (const socket of [client, upstream]) {
        socket.on('error', () => undefined);
        socket.on('close', close);
      }
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, '127.0.0.1', resolve);
    });
    this.port = (this.server!.address() as { port: number }).port;
    return this.port;
  }

  /** Drops every open connection and stops listening. */
  async cut(): Promise<void> {
    for (const { client, upstream } of this.links) {
      client.destroy();
      upstream.destroy();
    }
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = undefined;
  }

  /** Listens again on the same port (no-op while listening). */
  async restore(): Promise<void> {
    if (!this.server) await this.start(this.port);
  }

  /** Forwards nothing, in either direction, on every connection (new ones included), closing none. */
  freeze(): void {
    this.frozen = true;
  }

  /** Forwards again, starting with what was held back. */
  thaw(): void {
    this.frozen = false;
    for (const link of this.links) {
      for (const [to, chunk] of link.held.splice(0)) to.write(chunk);
    }
  }

  private forward(link: Link, from: Socket, to: Socket): void {
    from.on('data', (chunk: Buffer) => {
      if (this.frozen) link.held.push([to, chunk]);
      else to.write(chunk);
    });
  }
}
