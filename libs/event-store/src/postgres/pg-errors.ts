import { EventStoreTimeoutError } from '../errors';

/** The PostgreSQL fields of a driver error, whether it comes straight from `pg` or wrapped by TypeORM. */
export interface PgErrorFields {
  code?: string;
  detail?: string;
  hint?: string;
  constraint?: string;
  message?: string;
}

/** The SQLSTATE and fields of `error` (TypeORM wraps the `pg` error in `driverError`). */
export function pgFields(error: unknown): PgErrorFields {
  const e = error as PgErrorFields & { driverError?: PgErrorFields };
  return e?.driverError ?? e ?? {};
}

/**
 * SQLSTATEs an append raises only outside the global lock's critical section,
 * or before its statement ran at all: after them the connection is known not
 * to hold the session lock. Typed refusals (ES001/ES002), constraint
 * violations (the INSERT runs after the lock is released), bad input, a
 * transaction already aborted, and statements that could not be planned.
 */
const CLEAN_FAILURE = /^(ES00[1-9]|22...|23...|25P02|42...)$/;

/**
 * True unless the failure is one that provably happened outside the critical
 * section. A cancel or timeout (57014) is the case that matters: the function
 * releases the lock in its handler, but a second interrupt during the handler
 * could skip that, so such a connection is closed instead of pooled.
 */
export function mayHoldSessionLock(error: unknown): boolean {
  return !CLEAN_FAILURE.test(pgFields(error).code ?? '');
}

/**
 * `EventStoreTimeoutError` for a statement timeout or an idle-in-transaction
 * timeout (the server's, set from the store's options) or a statement past the
 * client-side bound (`BoundedClient`); anything else unchanged.
 */
export function translateTimeout(error: unknown): unknown {
  // The bounded client's own error, as TypeORM wraps it.
  const driver = (error as { driverError?: unknown } | undefined)?.driverError;
  if (driver instanceof EventStoreTimeoutError) return driver;
  const { code, message = '' } = pgFields(error);
  if (code === '57014' && /statement timeout/i.test(message)) {
    return new EventStoreTimeoutError('statement', { cause: error });
  }
  if (code === '25P03') return new EventStoreTimeoutError('idle-in-transaction', { cause: error });
  return error;
}
