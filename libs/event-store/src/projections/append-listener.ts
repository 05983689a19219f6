import { Logger } from '@nestjs/common';
import { Client } from 'pg';

/**
 * LISTENs on the append channel and calls `onAppend` for each notification.
 * On any failure it reconnects a second later; the runners keep polling meanwhile.
 */
export class AppendListener {
  private client?: Client;
  private closed = true;
  private readonly logger = new Logger('Projections');

  constructor(
    private readonly url: string,
    private readonly channel: string,
    private readonly onAppend: () => void,
  ) {}

  async start(): Promise<void> {
    this.closed = false;
    await this.listen();
  }

  async stop(): Promise<void> {
    this.closed = true;
    await this.client?.end().catch(() => undefined);
    this.client = undefined;
  }

  private async listen(): Promise<void> {
    if (this.closed) return;
    const client = new Client({ connectionString: this.url, application_name: 'event-store-listener' });
    client.on('notification', () => this.onAppend());
    client.on('error', () => undefined);
    client.on('end', () => {
      if (!this.closed) setTimeout(() => void this.listen().catch(() => undefined), 1000).unref();
    });
    try {
      await client.connect();
      await client.query(`LISTEN "${this.channel.replace(/"/g, '""')}"`);
      this.client = client;
    } catch (error) {
      this.logger.warn(`LISTEN failed (${(error as Error).message}); polling until it reconnects`);
      await client.end().catch(() => undefined);
    }
  }
}
