import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { checkAdminToken } from '../common/admin-token.guard';
import { AppConfig } from '../config/app-config';

/**
 * Who may erase a user: that user or an admin.
 *
 * AUTH PLUG-IN POINT (issue 20, point 1): until bearer-token auth lands in `src/auth/`, only
 * an admin (`Authorization: Bearer <ADMIN_TOKEN>`) may erase, which is also the rule when
 * auth is unset. When it lands, replace the body of `canActivate` with its reusable
 * "that user (JWT `sub` = `:id`) or an admin" check; this guard is the only place
 * `DELETE /users/:id` is protected.
 */
@Injectable()
export class ErasureAccessGuard implements CanActivate {
  constructor(@Inject(AppConfig) private readonly config: AppConfig) {}

  canActivate(context: ExecutionContext): boolean {
    checkAdminToken(context.switchToHttp().getRequest<Request>().headers.authorization, this.config.ADMIN_TOKEN);
    return true;
  }
}
