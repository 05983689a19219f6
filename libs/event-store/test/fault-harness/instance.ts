import { TcpProxy } from '../../../../test/tcp-proxy';
import { createEventStore, type EventStoreHandle } from '../../src';
import { balancesProjection, depositedEvent } from '../../src/testing/balances-projection';
import { TEST_DATABASE_URL } from '../../src/testing/test-database';

/** The live projection every instance runs (one active at a time, by its lock). */
export const LIVE_PROJECTION = 'bal';
/** Server-side statement timeout of the faulty instances: short, so frozen links reach the client bound (2 s) within a scenario. */
export const STATEMENT_TIMEOUT_MS = 1_000;

/** A store opened on `url`, running the live projection (or `projection`, for a rebuild from scratch). */
export function openStore(url: string, schema: string, runnerId: string, projection = LIVE_PROJECTION): Promise<EventStoreHandle> {
  return createEventStore({
    url,
    schema,
    events: [depositedEvent],
    poolSize: 6,
    notifyChannel: `ch_${schema}`,
    projections: [balancesProjection({ name: projection, runnerId })],
    projectionBatchSize: 300,
    projectionPollMs: 50,
    // Short: a frozen or killed holder's lock passes to a standby within a scenario.
    projectionLockTimeoutMs: 2_000,
    statementTimeoutMs: STATEMENT_TIMEOUT_MS,
    idleInTransactionTimeoutMs: 2_000,
    shutdownTimeoutMs: 1_000,
  });
}

/**
 * One instance of the service as the harness sees it: an event store and its
 * projection runner whose every connection (pool, bulk session, LISTEN, the
 * projection's lock connection) goes through a TCP proxy of its own, so a
 * fault can freeze or cut this instance's links alone. `kill()` is a crash
 * (links cut first, so nothing in flight finishes cleanly), `restart()` a
 * new process on the same database.
 */
export class FaultyInstance {
  private readonly proxy: TcpProxy;
  private current?: EventStoreHandle;

  constructor(
    readonly id: string,
    readonly schema: string,
  ) {
    const target = new URL(TEST_DATABASE_URL);
    this.proxy = new TcpProxy(target.hostname, Number(target.port || 5432));
  }

  /** The running store, or undefined while the instance is down. */
  get handle(): EventStoreHandle | undefined {
    return this.current;
  }

  async start(): Promise<void> {
    if (!this.proxy.port) await this.proxy.start();
    else await this.proxy.restore();
    const url = Object.assign(new URL(TEST_DATABASE_URL), { host: `127.0.0.1:${this.proxy.port}` }).toString();
    const handle = await openStore(url, this.schema, this.id);
    await handle.projections.start();
    this.current = handle;
  }

  /** Client ports of this instance's connections as the server sees them (to pick its backends for a cancel). */
  backendPorts(): number[] {
    return this.proxy.upstreamPorts();
  }

  /** Stops forwarding both ways on every link, closing nothing (a frozen peer or a silent network). */
  freeze(): void {
    this.proxy.freeze();
  }

  /** Freezes only the next link that carries `marker` (one statement lost on one connection). */
  freezeLinkOn(marker: string): void {
    this.proxy.freezeLinkOn(marker);
  }

  thaw(): void {
    this.proxy.thaw();
  }

  /** Drops every link and refuses new ones until `reconnect()` (the database went away for this instance). */
  cut(): Promise<void> {
    return this.proxy.cut();
  }

  reconnect(): Promise<void> {
    return this.proxy.restore();
  }

  /** How long each `kill()` took to release the store's resources (bounded by its shutdown timeout, 1 s). */
  readonly closeMs: number[] = [];

  /** A crash: links cut under whatever is in flight, then the store's resources released (bounded by its shutdown timeout). */
  async kill(): Promise<void> {
    const handle = this.current;
    this.current = undefined;
    this.proxy.thaw();
    await this.proxy.cut();
    const start = Date.now();
    await handle?.close();
    if (handle) this.closeMs.push(Date.now() - start);
  }

  async restart(): Promise<void> {
    if (this.current) await this.kill();
    await this.start();
  }

  /** Ends the instance for good (test teardown). */
  async stop(): Promise<void> {
    this.proxy.thaw();
    await this.current?.close();
    this.current = undefined;
    await this.proxy.cut();
  }
}
