import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { EventMetadata } from '@app/event-store';
import { rawRequest, requestIdsOf } from '../observability/request-ids';

/**
 * Event metadata for the request: `correlationId` from `X-Correlation-Id` (else the request
 * id) and `causationId` = `http:<request id>` (`X-Request-Id` when well-formed, else generated).
 * The event store adds the trace context (`traceparent`) of the append when tracing is on.
 */
export const RequestMetadata = createParamDecorator((_: unknown, ctx: ExecutionContext): EventMetadata => {
  const { requestId, correlationId } = requestIdsOf(rawRequest(ctx.switchToHttp().getRequest()));
  return { correlationId, causationId: `http:${requestId}` };
});
