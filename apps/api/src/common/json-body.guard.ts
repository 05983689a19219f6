import { CanActivate, ExecutionContext, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { hasBody, isMediaType, type HttpRequest } from './http-message';
import { RequestError } from './problem';

const ACCEPTS_STREAM = 'accepts-stream-body';

/** Marks a route that reads its own (non-JSON) request body, e.g. the NDJSON import. */
export const AcceptsStreamBody = () => SetMetadata(ACCEPTS_STREAM, true);

/**
 * A body that is not JSON would reach the handlers as "no body" and fail
 * validation field by field; answer 415 instead, saying what is expected.
 */
@Injectable()
export class JsonBodyGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const req = context.switchToHttp().getRequest<HttpRequest>();
    if (!['POST', 'PUT', 'PATCH'].includes(req.method)) return true;
    if (this.reflector.getAllAndOverride<boolean>(ACCEPTS_STREAM, [context.getHandler(), context.getClass()])) return true;
    if (hasBody(req) && !isMediaType(req, 'application/json')) {
      throw new RequestError('REQUEST.UNSUPPORTED_MEDIA_TYPE', 415, 'Send the body as application/json');
    }
    return true;
  }
}
