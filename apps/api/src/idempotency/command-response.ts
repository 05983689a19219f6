import type { StoredResponse } from './idempotency.store';
import type { CommandAppend } from './request-outcome';

/** Where `@Idempotent` leaves a route's {@link CommandResponse} for the interceptor. */
export const COMMAND_RESPONSE = 'idempotency:command-response';

/**
 * How a command route answers, declared on the route (`@Idempotent(response)`) and applied by
 * the idempotency interceptor alone, once per request: the first run, a replay and a request
 * without a key all answer through it.
 *
 * Why two functions: the response is stored in the transaction of the command's events, which
 * commits inside `save`, before the handler has returned its result. So the interceptor derives
 * the result from the append itself with `result`, the same function the handler returns its
 * result through (one derivation, so the stored and the live answer cannot differ). A command
 * that appended nothing is answered from the result its handler returned.
 */
export interface CommandResponse<R = unknown> {
  /** The command's result from what it appended (e.g. `writeResultOf`). */
  result(append: CommandAppend): R;
  /** The response for a result: status (the route's own), headers (`Location`, `ETag`), body. */
  respond(result: R): StoredResponse;
}
