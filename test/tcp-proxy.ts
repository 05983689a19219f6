import { createConnection, createServer, type Server, type Socket } from 'node:net';

/** One proxied connection: the client's socket and ours to the target. */
interface Link {
  client: Socket;
  upstream?: Socket;
  /** A side closed while frozen: the other side is closed on thaw, not before. */
  closedWhileFrozen: boolean;
  /** Frozen on its own by a trap (`freezeLinkOn`), whatever the proxy's state. */
  trapped: boolean;
  /** Bytes forwarded both ways right now. */
  flowing: boolean;
  /** Bytes held back while the link does not forward, by the side they go to. */
  held: { upstream: Buffer[]; client: Buffer[] };
}

/**
 * A TCP proxy the test can cut, freeze and restore, standing for a database
 * link that fails (PostgreSQL or Redis): `cut()` closes every connection and refuses new ones (a
 * database that went away); `freeze()` stops forwarding bytes in both
 * directions but closes nothing, not even when one side closes (a peer that
 * froze, or a network that silently drops everything while both kernels
 * still answer); `freezeLinkOn()` does that to the one connection that sends
 * a given statement; `thaw()` resumes forwarding.
 */
export class TcpProxy {
  private server?: Server;
  private readonly links = new Set<Link>();
  private frozen = false;
  private trap?: Buffer;
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

  /**
   * Arms a trap: the one connection whose client next sends bytes containing
   * `marker` freezes alone, those bytes held (a statement lost on one dead
   * connection while new connections work). `thaw()` releases it.
   */
  freezeLinkOn(marker: string): void {
    this.trap = Buffer.from(marker);
  }

  /** Resumes forwarding (trapped links too); links one side of which closed meanwhile are closed now. */
  thaw(): void {
    this.frozen = false;
    this.trap = undefined;
    for (const link of this.links) {
      link.trapped = false;
      if (link.closedWhileFrozen) this.destroy(link);
      else if (!link.flowing) this.forward(link);
    }
  }

  /**
   * Local ports of the proxy's open connections to the target: the server sees
   * them as `client_port` (`pg_stat_activity`), so a test can find the backends
   * behind this proxy and no others.
   */
  upstreamPorts(): number[] {
    return [...this.links].flatMap((link) => (link.upstream?.localPort ? [link.upstream.localPort] : []));
  }

  private accept(client: Socket): void {
    const link: Link = { client, closedWhileFrozen: false, trapped: false, flowing: false, held: { upstream: [], client: [] } };
    this.links.add(link);
    client.on('error', () => undefined);
    client.on('close', () => this.closed(link));
    // Relayed by hand (not piped), so a trap can stop the very chunk that carries its marker.
    client.on('data', (chunk: Buffer) => this.relay(link, chunk, 'upstream'));
    client.pause();
    if (!this.frozen) this.forward(link);
  }

  /** Passes `chunk` on to the `to` side, or holds it while the link does not forward. */
  private relay(link: Link, chunk: Buffer, to: 'upstream' | 'client'): void {
    if (this.trap && chunk.includes(this.trap)) {
      this.trap = undefined;
      link.trapped = true;
      this.pause(link);
    }
    const target = link[to];
    if (!link.flowing || !target) {
      link.held[to].push(chunk);
      return;
    }
    if (!target.write(chunk)) {
      const source = to === 'upstream' ? link.client : link.upstream!;
      source.pause();
      target.once('drain', () => link.flowing && source.resume());
    }
  }

  /** Connects upstream on first use, then forwards both ways. */
  private forward(link: Link): void {
    if (!link.upstream) {
      const upstream = createConnection({ host: this.targetHost, port: this.targetPort });
      upstream.on('error', () => undefined);
      upstream.on('close', () => this.closed(link));
      upstream.on('data', (chunk: Buffer) => this.relay(link, chunk, 'client'));
      link.upstream = upstream;
    }
    link.flowing = true;
    for (const chunk of link.held.upstream.splice(0)) link.upstream.write(chunk);
    for (const chunk of link.held.client.splice(0)) link.client.write(chunk);
    link.client.resume();
    link.upstream.resume();
  }

  private pause(link: Link): void {
    link.flowing = false;
    link.client.pause();
    link.upstream?.pause();
  }

  private closed(link: Link): void {
    if (this.frozen || link.trapped) link.closedWhileFrozen = true;
    else this.destroy(link);
  }

  private destroy(link: Link): void {
    link.client.destroy();
    link.upstream?.destroy();
    this.links.delete(link);
  }
}
