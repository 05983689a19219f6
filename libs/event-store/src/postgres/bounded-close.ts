import { EventStoreOptionsError } from '../errors';

/** Default `shutdownTimeoutMs`: room for a batch or a request in flight to finish, short enough for an orchestrator's grace period. */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 5_000;
const MAX_SHUTDOWN_TIMEOUT_MS = 600_000;

/** Validates `shutdownTimeoutMs` (an integer in 100..600000), filling the default. */
export function resolveShutdownTimeout(value: number | undefined): number {
  const ms = value ?? DEFAULT_SHUTDOWN_TIMEOUT_MS;
  if (!Number.isInteger(ms) || ms < 100 || ms > MAX_SHUTDOWN_TIMEOUT_MS) {
    throw new EventStoreOptionsError(`shutdownTimeoutMs must be an integer number of ms in 100..${MAX_SHUTDOWN_TIMEOUT_MS}`);
  }
  return ms;
}

/**
 * Runs `graceful`; if it has not finished after `ms`, runs `force` (which
 * must not wait on the network) and resolves when that is done. A graceful
 * close on a frozen link waits forever (a connection's goodbye is never
 * answered), so the bound is what makes shutdown finish.
 */
export async function closeWithin(ms: number, graceful: () => Promise<void>, force: () => Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), ms)));
  const done = graceful().then(() => 'done' as const);
  // Past the bound nobody awaits the graceful close any more: its late failure must not go unhandled.
  done.catch(() => undefined);
  try {
    if ((await Promise.race([done, late])) === 'late') await force();
  } finally {
    clearTimeout(timer);
  }
}
