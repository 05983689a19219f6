import { Injectable } from '@nestjs/common';
import { AsyncLocalStorage } from 'node:async_hooks';
import type { AppendResult, Queryable, TransactionHook } from '@app/event-store';

/** Writes the request wants committed with the command's events, given the command's result. */
export type OutcomeHook = (q: Queryable, commandResult: unknown) => Promise<void>;

/**
 * Lets the HTTP layer add writes to the transaction of whatever a command appends,
 * without commands knowing about HTTP: the idempotency interceptor runs the command
 * with an ambient hook (store the request's outcome), and command handlers pass
 * `hook(toResult, own)` to `AggregateRepository.save/update` as `within`. One append
 * per request carries the ambient hook; it runs after the append, before COMMIT.
 */
@Injectable()
export class WriteTransactions {
  private readonly ambient = new AsyncLocalStorage<OutcomeHook>();

  /** Runs `work` (a command) so that the save it makes commits `hook`'s writes with its events. */
  run<T>(hook: OutcomeHook, work: () => Promise<T>): Promise<T> {
    return this.ambient.run(hook, work);
  }

  /**
   * The hook a save passes as `within`: the command's own rows (`own`), then the
   * request's, which get the command's result as `toResult` derives it from the append.
   * `undefined` when there is neither, so the append autocommits as before.
   */
  hook<R>(toResult: (appended: AppendResult) => R, own?: TransactionHook): TransactionHook | undefined {
    const ambient = this.ambient.getStore();
    if (!ambient) return own;
    return async (q, appended) => {
      await own?.(q, appended);
      await ambient(q, toResult(appended));
    };
  }
}
