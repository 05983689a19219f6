import { Injectable } from '@nestjs/common';
import { AsyncLocalStorage } from 'node:async_hooks';
import type { AppendResult, Queryable } from '@app/event-store';

/** What a command appended, as the write seam reports it: which stream, and where its events landed. */
export interface CommandAppend extends AppendResult {
  streamId: string;
}

/** Writes the request wants committed with its command's events, given the command's append. */
export type OutcomeHook = (q: Queryable, append: CommandAppend) => Promise<void>;

interface OutcomeScope {
  hook: OutcomeHook;
  /** Appends of this request that committed: the outcome rides on the first and only one. */
  committed: number;
}

/**
 * Carries a request's outcome hook from the idempotency interceptor, through the command
 * bus and the handler, to the `CommandRepository` that appends the command's events, so
 * the outcome commits with them and handlers never know about it. Request-scoped through
 * `AsyncLocalStorage` rather than a Nest request-scoped provider: handlers stay singletons,
 * and the scope follows every `await` of the request without being passed along.
 */
@Injectable()
export class RequestOutcome {
  private readonly ambient = new AsyncLocalStorage<OutcomeScope>();

  /**
   * Runs `work` (the route, and so its command) so that its append commits `hook`'s writes
   * with its events; `appended` says whether one did (the last `hook` run is the committed one).
   */
  async run<T>(hook: OutcomeHook, work: () => Promise<T>): Promise<{ value: T; appended: boolean }> {
    const scope: OutcomeScope = { hook, committed: 0 };
    const value = await this.ambient.run(scope, work);
    return { value, appended: scope.committed > 0 };
  }

  /**
   * The hook the next append must run before COMMIT, or undefined outside `run`.
   * @throws Error on a second append in one request: the outcome is already committed with
   *   the first one, so a second would have nowhere to record what it did.
   */
  hookForAppend(): OutcomeHook | undefined {
    const scope = this.ambient.getStore();
    if (scope && scope.committed > 0) {
      throw new Error('a command route appends once per request: its outcome is already committed with the first append');
    }
    return scope?.hook;
  }

  /** Called once an append carrying the hook has committed. */
  appendCommitted(): void {
    const scope = this.ambient.getStore();
    if (scope) scope.committed++;
  }
}
