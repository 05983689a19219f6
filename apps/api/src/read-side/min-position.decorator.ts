/*
 * Read-your-writes, the app's side: this file only parses the `X-Min-Position` header. The
 * protocol (wait for the source, never answer from an older value, the bound, BYPASS) lives in
 * the cache library: libs/stampede-cache/README.md#read-your-writes.
 */
import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { HttpRequest } from '../common/http-message';
import { RequestError } from '../common/problem';

/** Header of read-your-writes reads: the `position` a write returned. */
export const MIN_POSITION_HEADER = 'x-min-position';

/** Parses `X-Min-Position` (a non-negative integer); absent -> undefined, malformed -> 400. */
export function parseMinPosition(header: string | string[] | undefined): number | undefined {
  if (header === undefined) return undefined;
  const value = Array.isArray(header) ? header[0] : header;
  if (!/^\s*\d{1,15}\s*$/.test(value)) {
    throw new RequestError('REQUEST.INVALID_MIN_POSITION', 400, 'X-Min-Position must be a non-negative integer position');
  }
  return Number(value);
}

/** Injects the parsed X-Min-Position header. */
export const MinPosition = createParamDecorator((_: unknown, ctx: ExecutionContext) =>
  parseMinPosition(ctx.switchToHttp().getRequest<HttpRequest>().headers[MIN_POSITION_HEADER]),
);
