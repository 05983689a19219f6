import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { EventMetadata } from '@app/event-store';
import type { HttpRequest } from './http-message';

const SAFE_ID = /^[A-Za-z0-9._:-]{1,100}$/;

/**
 * Event metadata for the request: `correlationId` from `X-Correlation-Id`
 * (a fresh UUID when missing or unsafe) and `causationId` = the request id.
 */
export const RequestMetadata = createParamDecorator((_: unknown, ctx: ExecutionContext): EventMetadata => {
  const req = ctx.switchToHttp().getRequest<HttpRequest>();
  const header = req.headers['x-correlation-id'];
  const correlationId = typeof header === 'string' && SAFE_ID.test(header) ? header : randomUUID();
  return { correlationId, causationId: `http:${randomUUID()}` };
});
