import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { AppConfig, type AccessMode } from '../config/app-config';
import { checkAdminToken } from './admin-token.guard';
import { toProblem } from './to-problem';

/** /metrics as METRICS_ACCESS says: open, or only with the admin token (`off` does not register the route). */
@Injectable()
export class MetricsAccessGuard implements CanActivate {
  constructor(@Inject(AppConfig) private readonly config: AppConfig) {}

  canActivate(context: ExecutionContext): boolean {
    if (this.config.METRICS_ACCESS === 'admin') {
      checkAdminToken(context.switchToHttp().getRequest<Request>().headers.authorization, this.config.ADMIN_TOKEN);
    }
    return true;
  }
}

/**
 * Express middleware in front of routes Nest does not own (the OpenAPI UI and document):
 * with `admin`, the admin token is required and a refusal is the same problem+json
 * (401/403) the admin API answers.
 */
export function requireAccess(mode: AccessMode, adminToken: string | undefined): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    if (mode !== 'admin') return next();
    try {
      checkAdminToken(req.headers.authorization, adminToken);
      next();
    } catch (error) {
      const problem = { ...toProblem(error), instance: req.originalUrl.split('?')[0] };
      if (problem.status === 401) res.setHeader('WWW-Authenticate', 'Bearer');
      res.status(problem.status).type('application/problem+json').send(JSON.stringify(problem));
    }
  };
}
