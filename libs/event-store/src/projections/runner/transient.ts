import type { Clock } from '../clock';

/**
 * SQLSTATEs that say nothing about the event being applied, only about the moment: connection
 * exception (08), transaction rollback (40: serialization failure, deadlock), insufficient
 * resources (53: out of memory, disk full, too many connections), operator intervention (57:
 * a cancelled statement or a statement timeout, 57014, and an admin shutdown, 57P01) and lock
 * not available (55P03, a `lock_timeout`). Trying the same work again later can succeed.
 */
const TRANSIENT_SQLSTATE = /^(08|40|53|57)...$|^55P03$/;
/** Node socket errors of a connection that went away. */
const TRANSIENT_ERRNO = /^(ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT)$/;
/** `pg`'s and TypeORM's messages for a connection or client that is gone, and the lock connection's own. */
const TRANSIENT_MESSAGE = /Connection terminated|lock connection lost|Query runner already released|Client was closed/i;

/** A streak reported in the status once it reaches this many attempts in a row (it keeps retrying). */
export const TRANSIENT_REPORT_AFTER = 3;
/** The longest wait between two attempts: a recovered database is used again within this. */
export const MAX_RETRY_BACKOFF_MS = 10_000;

/** The SQLSTATE (or Node errno) of `error`, possibly wrapped by TypeORM; '' when it has none. */
export function errorCodeOf(error: unknown): string {
  const e = error as { code?: string | number; driverError?: { code?: string | number } };
  return String(e?.driverError?.code ?? e?.code ?? '');
}

/**
 * True for a failure of the moment (see `TRANSIENT_SQLSTATE`), to be retried with backoff. Only
 * the rest, raised by decoding or applying the event itself, may stop a projection on the event.
 */
export function isTransient(error: unknown): boolean {
  const code = errorCodeOf(error);
  const message = (error as { message?: string })?.message ?? '';
  return TRANSIENT_SQLSTATE.test(code) || TRANSIENT_ERRNO.test(code) || TRANSIENT_MESSAGE.test(message);
}

/** Wait before attempt `attempt + 1`: two polls after the first failure, doubling, at most `MAX_RETRY_BACKOFF_MS`. */
export function retryBackoffMs(attempt: number, pollMs: number): number {
  return Math.min(MAX_RETRY_BACKOFF_MS, Math.max(pollMs * 2, pollMs * 2 ** Math.min(attempt, 20)));
}

/** A streak of failed attempts as the status shows it. */
export interface RetryReport {
  /** `projection`: the runner's step (a live batch, reading the log, the connection); `rebuild`: a rebuild's preparation, batch or switch. */
  scope: 'projection' | 'rebuild';
  /** Failed attempts in a row so far. */
  attempts: number;
  /** SQLSTATE (or errno) of the last failure, '' when it had none. */
  code: string;
  reason: string;
  /** When the streak began, and when the next attempt is due (ISO 8601). */
  since: string;
  nextAttemptAt: string;
}

/**
 * Failed attempts in a row of one piece of work on this instance, and when to try again. A
 * success (or another instance taking the work over) ends the streak.
 */
export class RetryStreak {
  private streak?: Omit<RetryReport, 'scope' | 'nextAttemptAt'> & { next: number };

  constructor(
    private readonly scope: RetryReport['scope'],
    private readonly clock: Clock,
    private readonly pollMs: number,
  ) {}

  /** Records a failure; returns the attempt number and how long to wait before the next. */
  failed(error: unknown): { attempts: number; delayMs: number } {
    const now = this.clock.now();
    const attempts = (this.streak?.attempts ?? 0) + 1;
    const delayMs = retryBackoffMs(attempts, this.pollMs);
    const reason = (error as Error)?.message ?? String(error);
    const since = this.streak?.since ?? new Date(now).toISOString();
    this.streak = { attempts, code: errorCodeOf(error), reason, since, next: now + delayMs };
    return { attempts, delayMs };
  }

  /** Ends the streak; returns how many attempts it had failed (0 when there was none). */
  succeeded(): number {
    const attempts = this.streak?.attempts ?? 0;
    this.streak = undefined;
    return attempts;
  }

  /** True while the backoff after the last failure runs. */
  waiting(): boolean {
    return this.streak !== undefined && this.clock.now() < this.streak.next;
  }

  /** The streak, once it has reached `TRANSIENT_REPORT_AFTER` attempts; null before and after. */
  report(): RetryReport | null {
    if (!this.streak || this.streak.attempts < TRANSIENT_REPORT_AFTER) return null;
    const { next, ...streak } = this.streak;
    return { scope: this.scope, ...streak, nextAttemptAt: new Date(next).toISOString() };
  }
}
