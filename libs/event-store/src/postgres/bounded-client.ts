import { Client, type ClientConfig } from 'pg';
import { EventStoreTimeoutError } from '../errors';

/** What one store's pool shares with its clients: the bound, and the clients to drop on a forced shutdown. */
export interface ClientBound {
  /** Longest a statement may wait for its answer, in ms; 0 = unbounded. */
  ms: number;
  /** The pool's open clients (one set per store: two stores never share it). */
  readonly clients: Set<BoundedClient>;
}

/** A query config carrying its own bound (e.g. the post-commit NOTIFY's, shorter than the pool's). */
export interface BoundedQueryConfig {
  text: string;
  values?: unknown[];
  /** Overrides the client's bound for this statement, in ms. */
  boundMs?: number;
}

/**
 * A `pg` Client whose statements get an answer within a bound, or the
 * connection is dropped. The bound is a little above the server's
 * `statement_timeout`, so on a healthy link the server's cancel (a known
 * outcome) always comes first; only a link that went silent (frozen,
 * partitioned) reaches it. pg's own `query_timeout` is not used because it
 * leaves the abandoned statement running on the connection and lets the pool
 * hand that busy connection to the next caller; here the connection is ended
 * at once (`_ending` is set synchronously, so the pool never reuses it).
 */
export class BoundedClient extends Client {
  /** The bound of this client's statements; `exemptFromBound` sets it to 0 for bulk sessions. */
  boundMs: number;
  private abandoned = false;
  private readonly bound?: ClientBound;

  constructor(config: ClientConfig & { bound?: ClientBound }) {
    super(config);
    this.bound = config.bound;
    this.boundMs = config.bound?.ms ?? 0;
    this.bound?.clients.add(this);
    this.once('end', () => this.bound?.clients.delete(this));
    // A socket error while the pool holds no listener (between checkout and release) must not crash the process.
    this.on('error', () => undefined);
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- pg's query() has a dozen overloads; this forwards each unchanged
  override query(...args: unknown[]): any {
    const first = args[0] as (BoundedQueryConfig & { submit?: unknown }) | string;
    const ms = typeof first === 'object' && first.boundMs !== undefined ? first.boundMs : this.boundMs;
    // Streams (submittables) manage their own lifetime; an unbounded client is the bulk session's.
    if (!ms || (typeof first === 'object' && typeof first.submit === 'function')) return this.forward(args);
    const timer = setTimeout(() => this.abandon(), ms);
    const settle = (error: unknown) => {
      clearTimeout(timer);
      return error && this.abandoned ? new EventStoreTimeoutError('no-answer', { cause: error }) : error;
    };
    const callbackAt = args.findIndex((a) => typeof a === 'function');
    if (callbackAt >= 0) {
      const callback = args[callbackAt] as (error: unknown, result: unknown) => void;
      args[callbackAt] = (error: unknown, result: unknown) => callback(settle(error), result);
      return this.forward(args);
    }
    return (this.forward(args) as Promise<unknown>).then(
      (result) => {
        clearTimeout(timer);
        return result;
      },
      (error) => {
        throw settle(error);
      },
    );
  }

  /**
   * Drops the connection now, whatever it is doing (a forced shutdown): its
   * statements fail, a connect in progress fails, and the pool discards it.
   */
  drop(): void {
    this.abandoned = true;
    this.connection.stream.destroy();
  }

  private forward(args: unknown[]): unknown {
    return (Client.prototype.query as (...a: unknown[]) => unknown).apply(this, args);
  }

  /** A statement past its bound: end() marks the client ending at once (the pool never reuses it) and destroys the busy socket. */
  private abandon(): void {
    if (this.abandoned) return;
    this.abandoned = true;
    void this.end().catch(() => undefined);
  }
}

/** Exempts a pooled client from the bound (bulk sessions run long statements on purpose); it must be closed, not pooled, after. */
export function exemptFromBound(client: unknown): void {
  if (client instanceof BoundedClient) client.boundMs = 0;
}
