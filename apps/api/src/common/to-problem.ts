import { HttpException } from '@nestjs/common';
import { STATUS_BY_CODE, TITLE_BY_STATUS } from './error-status';
import { Problem, RequestError } from './problem';

/** Body-parser errors that reach the filter unwrapped (Nest wraps bad JSON into a 400 itself) carry `type` and `status`. */
interface BodyParserError {
  type?: string;
  status?: number;
}

const BODY_PARSER_CODES: Record<string, string> = {
  'entity.too.large': 'REQUEST.TOO_LARGE',
  'encoding.unsupported': 'REQUEST.UNSUPPORTED_ENCODING',
  'charset.unsupported': 'REQUEST.UNSUPPORTED_ENCODING',
  'request.aborted': 'REQUEST.ABORTED',
};

/** Codes for Nest's own HTTP exceptions (unknown routes; body-parser failures, which Nest wraps: bad JSON 400, too large 413). */
const HTTP_CODES: Record<number, string> = {
  400: 'REQUEST.MALFORMED',
  404: 'HTTP.ROUTE_NOT_FOUND',
  405: 'HTTP.METHOD_NOT_ALLOWED',
  413: 'REQUEST.TOO_LARGE',
  415: 'REQUEST.UNSUPPORTED_MEDIA_TYPE',
};

/** A problem answered before, sent again as it was (an idempotent replay of a 4xx outcome). */
export class ReplayedProblem extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail ?? problem.code);
  }
}

/**
 * The RFC 9457 problem an error answers with: the one mapping from errors to HTTP
 * statuses and stable codes, used by the exception filter and by whatever must know a
 * request's outcome before the filter runs (idempotency keys store 4xx outcomes).
 */
export function toProblem(error: unknown): Problem {
  if (error instanceof ReplayedProblem) return { ...error.problem };
  // The cache wraps a failing computation; what the user must see is why it failed.
  const coded0 = error as { code?: unknown; cause?: unknown };
  if (coded0?.code === 'CACHE.FACTORY_FAILED' && coded0.cause) return toProblem(coded0.cause);
  if (error instanceof RequestError) {
    return makeProblem(error.status, error.code, error.message, error.extensions);
  }
  if (isDatabaseUnavailable(error)) {
    return makeProblem(503, 'DATABASE.UNAVAILABLE', 'The database is not reachable; try again shortly', { retryAfterSeconds: 2 });
  }
  if (wasCancelledByTheServer(error)) {
    return makeProblem(503, 'EVENT_STORE.TIMEOUT', 'The database cancelled a statement that ran too long; try again', {
      retryAfterSeconds: 1,
    });
  }
  const coded = error as { code?: unknown; message?: string };
  if (error instanceof Error && typeof coded.code === 'string' && STATUS_BY_CODE[coded.code]) {
    const status = STATUS_BY_CODE[coded.code];
    if (status === 503) return makeProblem(status, coded.code, error.message, { retryAfterSeconds: 1 });
    return makeProblem(status, coded.code, status >= 500 ? 'The server could not complete the read; it has been logged' : error.message);
  }
  const parser = error as BodyParserError;
  if (parser?.type && BODY_PARSER_CODES[parser.type]) {
    return makeProblem(parser.status ?? 400, BODY_PARSER_CODES[parser.type], (error as Error).message);
  }
  if (error instanceof HttpException) {
    const status = error.getStatus();
    const body = error.getResponse();
    // Nest's response body carries `message` as a string, or a list of them (its validation pipe).
    const detail = typeof body === 'string' ? body : String((body as { message?: string | string[] }).message ?? error.message);
    return makeProblem(status, HTTP_CODES[status] ?? `HTTP.${status}`, detail);
  }
  return makeProblem(500, 'INTERNAL', 'Unexpected error; it has been logged');
}

/** A problem body with this service's `type` convention (`/problems/<code>`). */
export function makeProblem(status: number, code: string, detail: string, extensions: Record<string, unknown> = {}): Problem {
  return {
    type: `/problems/${code.toLowerCase().replace(/[._]/g, '-')}`,
    title: TITLE_BY_STATUS[status] ?? 'Error',
    status,
    detail,
    code,
    ...extensions,
  };
}

/** What a database error may carry: `pg`'s SQLSTATE or a Node errno code, possibly wrapped by TypeORM. */
interface DriverError {
  code?: string | number;
  driverError?: { code?: string | number };
  message?: string;
}

/**
 * Connection-level failures (refused, reset, terminated, pool timeout) are an
 * outage, not a bug: 503 with Retry-After. SQLSTATE classes 08 (connection
 * exception) and 57P (operator intervention) count too.
 */
function isDatabaseUnavailable(error: unknown): boolean {
  const e = error as DriverError;
  const code = String(e?.driverError?.code ?? e?.code ?? '');
  if (/^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EHOSTUNREACH)$/.test(code) || /^(08|57P)/.test(code)) return true;
  const message = String(e?.message ?? '');
  return /Connection terminated|connection timeout|Client has encountered a connection error|timeout exceeded when trying to connect/i.test(
    message,
  );
}

/**
 * A statement the server cancelled (SQLSTATE 57014: DATABASE_STATEMENT_TIMEOUT_MS, or an
 * operator) outside the event store's own calls, e.g. a read-model query: transient, like
 * the store's EVENT_STORE.TIMEOUT, so the same 503.
 */
function wasCancelledByTheServer(error: unknown): boolean {
  const e = error as DriverError;
  return String(e?.driverError?.code ?? e?.code ?? '') === '57014';
}
