import { EventStoreOptionsError } from '../errors';
import { DEFAULT_SHUTDOWN_TIMEOUT_MS, resolveShutdownTimeout } from './bounded-close';
import {
  clientBoundMs,
  DEFAULT_IDLE_IN_TRANSACTION_TIMEOUT_MS,
  DEFAULT_STATEMENT_TIMEOUT_MS,
  poolTimeoutParameters,
  resolvePoolTimeouts,
} from './pool-timeouts';

describe('pool timeouts', () => {
  it('defaults to bounded timeouts', () => {
    expect(resolvePoolTimeouts({})).toEqual({
      statementTimeoutMs: DEFAULT_STATEMENT_TIMEOUT_MS,
      idleInTransactionTimeoutMs: DEFAULT_IDLE_IN_TRANSACTION_TIMEOUT_MS,
    });
    expect(DEFAULT_STATEMENT_TIMEOUT_MS).toBeGreaterThan(0);
    expect(DEFAULT_IDLE_IN_TRANSACTION_TIMEOUT_MS).toBeGreaterThan(0);
  });

  it.each([-1, 1.5, Number.NaN, 86_400_001, '100' as unknown as number])('refuses %p and names the option', (bad) => {
    expect(() => resolvePoolTimeouts({ statementTimeoutMs: bad })).toThrow(EventStoreOptionsError);
    expect(() => resolvePoolTimeouts({ statementTimeoutMs: bad })).toThrow(/statementTimeoutMs/);
    expect(() => resolvePoolTimeouts({ idleInTransactionTimeoutMs: bad })).toThrow(/idleInTransactionTimeoutMs/);
  });

  it('sends the timeouts as connection parameters; 0 leaves the server setting alone', () => {
    expect(poolTimeoutParameters({ statementTimeoutMs: 1500, idleInTransactionTimeoutMs: 0 })).toEqual({ statement_timeout: 1500 });
    expect(poolTimeoutParameters({ statementTimeoutMs: 0, idleInTransactionTimeoutMs: 20 })).toEqual({
      idle_in_transaction_session_timeout: 20,
    });
  });
});

describe('client-side bound and shutdown bound', () => {
  it('sits a tenth (at least 1 s) above the statement timeout, and is off without one', () => {
    expect(clientBoundMs(1_000)).toBe(2_000);
    expect(clientBoundMs(30_000)).toBe(33_000);
    expect(clientBoundMs(0)).toBe(0);
  });

  it('validates shutdownTimeoutMs, defaulting to 5 s', () => {
    expect(resolveShutdownTimeout(undefined)).toBe(DEFAULT_SHUTDOWN_TIMEOUT_MS);
    expect(resolveShutdownTimeout(250)).toBe(250);
    for (const bad of [0, 99, 1.5, 600_001]) expect(() => resolveShutdownTimeout(bad)).toThrow(/shutdownTimeoutMs/);
  });
});
