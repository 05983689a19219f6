import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AppConfig, type AccessMode } from '../config/app-config';
import { checkAdminToken } from './admin-token.guard';
import { requestPath, type HttpRequest } from './http-message';
import type { Problem } from './problem';
import { toProblem } from './to-problem';

/** /metrics as METRICS_ACCESS says: open, or only with the admin token (`off` does not register the route). */
@Injectable()
export class MetricsAccessGuard implements CanActivate {
  constructor(@Inject(AppConfig) private readonly config: AppConfig) {}

  canActivate(context: ExecutionContext): boolean {
    if (this.config.METRICS_ACCESS === 'admin') {
      checkAdminToken(context.switchToHttp().getRequest<HttpRequest>().headers.authorization, this.config.ADMIN_TOKEN);
    }
    return true;
  }
}

/** Paths of the OpenAPI UI and document, which Nest does not own (no guard runs there). */
export const DOCS_PATHS = ['/docs', '/docs-json', '/docs-yaml'];

/**
 * The refusal of a request to a route Nest does not own (the OpenAPI UI and document), or
 * undefined when it may pass: with `admin`, the admin token is required and a refusal is
 * the same problem+json (401/403) the admin API answers. Each platform sends it its own way.
 */
export function accessProblem(mode: AccessMode, adminToken: string | undefined, authorization: string | undefined, path: string) {
  if (mode !== 'admin') return undefined;
  try {
    checkAdminToken(authorization, adminToken);
    return undefined;
  } catch (error) {
    return { ...toProblem(error), instance: path } satisfies Problem;
  }
}

/** Express middleware in front of {@link DOCS_PATHS}, applying {@link accessProblem}. */
export function requireAccess(mode: AccessMode, adminToken: string | undefined) {
  return (req: IncomingMessage & { originalUrl?: string }, res: ServerResponse, next: () => void): void => {
    const problem = accessProblem(mode, adminToken, req.headers.authorization, requestPath(req));
    if (!problem) return next();
    if (problem.status === 401) res.setHeader('WWW-Authenticate', 'Bearer');
    res.statusCode = problem.status;
    res.setHeader('Content-Type', 'application/problem+json; charset=utf-8');
    res.end(JSON.stringify(problem));
  };
}
