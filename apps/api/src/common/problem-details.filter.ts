import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import { endReply, replySent, requestPath, type HttpReply, type HttpRequest } from './http-message';
import { toProblem } from './to-problem';

/**
 * Maps every error to an RFC 9457 `application/problem+json` response with a
 * stable `code` (see `toProblem`). Anything unrecognised is a 500 whose details
 * are logged, not sent.
 */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  catch(error: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const res = ctx.getResponse<HttpReply>();
    const req = ctx.getRequest<HttpRequest>();
    const problem = toProblem(error);
    problem.instance = requestPath(req);
    // 500s are bugs or unreadable data (logged with stack); 503s are expected back-pressure (one line).
    if (problem.status === 500) this.logger.error(`${req.method} ${req.originalUrl}: ${describe(error)}`, (error as Error)?.stack);
    else if (problem.status > 500) this.logger.warn(`${req.method} ${req.originalUrl}: ${problem.code} ${problem.detail}`);
    if (replySent(res)) return endReply(res);
    if (problem.status === 401) res.header('WWW-Authenticate', 'Bearer');
    const retryAfter = problem.retryAfterSeconds;
    if (typeof retryAfter === 'number') res.header('Retry-After', String(retryAfter));
    res.status(problem.status).type('application/problem+json').send(JSON.stringify(problem));
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
