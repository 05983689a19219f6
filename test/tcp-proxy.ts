import { createConnection, createServer, type Server, type Socket } from 'node:net';

/** One proxied connection: the client's socket and ours to the target. */
interface Link {
  client: Socket;
  upstream?: Socket;
  /** A side closed while frozen: the other side is closed on thaw, not before. */
  closedWhileFrozen: boolean;
}

/**
 * A TCP proxy the test can cut, freeze and restore, standing for a database
 * link that fails (PostgreSQL or Redis): `cut()` closes every connection and refuses new ones (a
 * database that went away); `freeze()` stops forwarding bytes in both
 * directions but closes nothing, not even when one side closes (a peer that
 * froze, or a network that silently drops everything while both kernels
 * still answer); `thaw()` resumes forwarding.
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
    this.server = createServer((client) => this.accept(client));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, '127.0.0.1', resolve);
    });
    this.port = (this.server.address() as { port: number }).port;
    return this.port;
  }

  /** Drops every open connection and stops listening. */
  async cut(): Promise<void> {
    this.frozen = false;
    for (const link of this.links) this.destroy(link);
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = undefined;
  }

  /** Listens again on the same port (no-op while listening). */
  async restore(): Promise<void> {
    if (!this.server) await this.start(this.port);
  }

  /** Stops forwarding in both directions; every socket stays open, and new connections are accepted but go nowhere. */
  freeze(): void {
    if (this.frozen) return;
    this.frozen = true;
    for (const link of this.links) this.pause(link);
  }

  /** Resumes forwarding; links one side of which closed meanwhile are closed now. */
  thaw(): void {
    if (!this.frozen) return; // forwarding links would be piped twice
    this.frozen = false;
    for (const link of this.links) {
      if (link.closedWhileFrozen) this.destroy(link);
      else this.forward(link);
    }
  }

  private accept(client: Socket): void {
    const link: Link = { client, closedWhileFrozen: false };
    this.links.add(link);
    client.on('error', () => undefined);
    client.on('close', () => this.closed(link));
    client.pause();
    if (!this.frozen) this.forward(link);
  }

  /** Connects upstream on first use, then pipes both ways. */
  private forward(link: Link): void {
    if (!link.upstream) {
      const upstream = createConnection({ host: this.targetHost, port: this.targetPort });
      upstream.on('error', () => undefined);
      upstream.on('close', () => this.closed(link));
      link.upstream = upstream;
    }
    link.client.pipe(link.upstream);
    link.upstream.pipe(link.client);
    link.client.resume();
    link.upstream.resume();
  }

  private pause(link: Link): void {
    link.client.unpipe();
    link.upstream?.unpipe();
    link.client.pause();
    link.upstream?.pause();
  }

  private closed(link: Link): void {
    if (this.frozen) link.closedWhileFrozen = true;
    else this.destroy(link);
  }

  private destroy(link: Link): void {
    link.client.destroy();
    link.upstream?.destroy();
    this.links.delete(link);
  }
}
