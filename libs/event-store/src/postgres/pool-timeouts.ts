import { EventStoreOptionsError } from '../errors';

/** Server-side timeouts of every connection in the store's pool, in ms. */
export interface PoolTimeouts {
  statementTimeoutMs: number;
  idleInTransactionTimeoutMs: number;
}

/** Default `statementTimeoutMs`: long enough for any statement of the store, short enough to free a stuck request. */
export const DEFAULT_STATEMENT_TIMEOUT_MS = 30_000;
/** Default `idleInTransactionTimeoutMs`: the store's transactions never wait on a client for long. */
export const DEFAULT_IDLE_IN_TRANSACTION_TIMEOUT_MS = 10_000;
const MAX_TIMEOUT_MS = 86_400_000;

/** Validates the timeout options (integers in 0..86400000; 0 leaves the server's setting), filling defaults. */
export function resolvePoolTimeouts(options: Partial<PoolTimeouts>): PoolTimeouts {
  const pick = (name: keyof PoolTimeouts, fallback: number) => {
    const value = options[name] ?? fallback;
    if (!Number.isInteger(value) || value < 0 || value > MAX_TIMEOUT_MS) {
      throw new EventStoreOptionsError(`${name} must be an integer number of ms in 0..${MAX_TIMEOUT_MS} (0 = the server's setting)`);
    }
    return value;
  };
  return {
    statementTimeoutMs: pick('statementTimeoutMs', DEFAULT_STATEMENT_TIMEOUT_MS),
    idleInTransactionTimeoutMs: pick('idleInTransactionTimeoutMs', DEFAULT_IDLE_IN_TRANSACTION_TIMEOUT_MS),
  };
}

/**
 * `pg` connection options that set the timeouts as startup parameters, so
 * they hold from the first statement of every pooled connection (no SET that
 * a RESET or DISCARD could undo).
 */
export function poolTimeoutParameters(t: PoolTimeouts): Record<string, number> {
  const params: Record<string, number> = {};
  if (t.statementTimeoutMs > 0) params.statement_timeout = t.statementTimeoutMs;
  if (t.idleInTransactionTimeoutMs > 0) params.idle_in_transaction_session_timeout = t.idleInTransactionTimeoutMs;
  return params;
}

/**
 * How far above `statement_timeout` the client-side bound sits: the server's
 * cancel (a known outcome) must come first on a healthy link, even on a busy
 * machine, so only a silent link reaches the bound.
 */
export function clientBoundMs(statementTimeoutMs: number): number {
  if (statementTimeoutMs <= 0) return 0; // the server's setting is unknown here: no bound to sit above
  return statementTimeoutMs + Math.max(1000, Math.round(statementTimeoutMs / 10));
}

/** Idle time before the kernel probes a pooled connection (TCP keepalive), in ms: a peer gone without a word is noticed. */
export const POOL_KEEPALIVE_DELAY_MS = 10_000;

/** Longest wait for the post-commit NOTIFY's answer; past it the notification counts as lost (listeners poll anyway). */
export const NOTIFY_BOUND_MS = 2_000;
