import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
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

/**
 * Maps every error to an RFC 9457 `application/problem+json` response with a
 * stable `code`. Anything unrecognised is a 500 whose details are logged,
 * not sent.
 */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  catch(error: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const res = ctx.getResponse<Response>();
    const req = ctx.getRequest<Request>();
    const problem = this.toProblem(error);
    problem.instance = req.originalUrl?.split('?')[0];
    // 500s are bugs or unreadable data (logged with stack); 503s are expected back-pressure (one line).
    if (problem.status === 500) this.logger.error(`${req.method} ${req.originalUrl}: ${describe(error)}`, (error as Error)?.stack);
    else if (problem.status > 500) this.logger.warn(`${req.method} ${req.originalUrl}: ${problem.code} ${problem.detail}`);
    if (res.headersSent) return void res.end();
    if (problem.status === 401) res.setHeader('WWW-Authenticate', 'Bearer');
    const retryAfter = problem.retryAfterSeconds;
    if (typeof retryAfter === 'number') res.setHeader('Retry-After', String(retryAfter));
    res.status(problem.status).type('application/problem+json').send(JSON.stringify(problem));
  }

  private toProblem(error: unknown): Problem {
    // The cache wraps a failing computation; what the user must see is why it failed.
    const coded0 = error as { code?: unknown; cause?: unknown };
    if (coded0?.code === 'CACHE.FACTORY_FAILED' && coded0.cause) return this.toProblem(coded0.cause);
    if (error instanceof RequestError) {
      return make(error.status, error.code, error.message, error.extensions);
    }
    if (isDatabaseUnavailable(error)) {
      return make(503, 'DATABASE.UNAVAILABLE', 'The database is not reachable; try again shortly', { retryAfterSeconds: 2 });
    }
    const coded = error as { code?: unknown; message?: string };
    if (error instanceof Error && typeof coded.code === 'string' && STATUS_BY_CODE[coded.code]) {
      const status = STATUS_BY_CODE[coded.code];
      if (status === 503) return make(status, coded.code, error.message, { retryAfterSeconds: 1 });
      return make(status, coded.code, status >= 500 ? 'The server could not complete the read; it has been logged' : error.message);
    }
    const parser = error as BodyParserError;
    if (parser?.type && BODY_PARSER_CODES[parser.type]) {
      return make(parser.status ?? 400, BODY_PARSER_CODES[parser.type], (error as Error).message);
    }
    if (error instanceof HttpException) {
      const status = error.getStatus();
      const body = error.getResponse();
      const detail = typeof body === 'string' ? body : String((body as { message?: unknown }).message ?? error.message);
      return make(status, HTTP_CODES[status] ?? `HTTP.${status}`, detail);
    }
    return make(500, 'INTERNAL', 'Unexpected error; it has been logged');
  }
}

function make(status: number, code: string, detail: string, extensions: Record<string, unknown> = {}): Problem {
  return {
    type: `/problems/${code.toLowerCase().replace(/[._]/g, '-')}`,
    title: TITLE_BY_STATUS[status] ?? 'Error',
    status,
    detail,
    code,
    ...extensions,
  };
}

/**
 * Connection-level failures (refused, reset, terminated, pool timeout) are an
 * outage, not a bug: 503 with Retry-After. SQLSTATE classes 08 (connection
 * exception) and 57P (operator intervention) count too.
 */
function isDatabaseUnavailable(error: unknown): boolean {
  const e = error as { code?: unknown; driverError?: { code?: unknown }; message?: unknown };
  const code = String(e?.driverError?.code ?? e?.code ?? '');
  if (/^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EHOSTUNREACH)$/.test(code) || /^(08|57P)/.test(code)) return true;
  const message = String(e?.message ?? '');
  return /Connection terminated|connection timeout|Client has encountered a connection error|timeout exceeded when trying to connect/i.test(message);
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
