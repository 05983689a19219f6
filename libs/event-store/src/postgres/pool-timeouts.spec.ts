import { EventStoreOptionsError } from '../errors';
import {
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
