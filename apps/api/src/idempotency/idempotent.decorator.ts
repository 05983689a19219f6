import { applyDecorators, SetMetadata, UseInterceptors } from '@nestjs/common';
import { ApiHeader, ApiResponse } from '@nestjs/swagger';
import { COMMAND_RESPONSE, type CommandResponse } from './command-response';
import { IdempotencyInterceptor } from './idempotency.interceptor';

/**
 * Makes a command route honour `Idempotency-Key` (IETF HTTPAPI draft): the first request
 * with a key runs and its response is stored with the command's events; a repeat with the
 * same key and request answers the stored response and writes nothing; see
 * `IdempotencyInterceptor`. The route returns its command's result; `response` makes the
 * HTTP answer of it, with or without a key.
 */
export function Idempotent<R>(response: CommandResponse<R>): MethodDecorator {
  return applyDecorators(
    // The interceptor hands `respond` the route's command result, which is an R; metadata cannot carry the type.
    SetMetadata(COMMAND_RESPONSE, response as CommandResponse),
    UseInterceptors(IdempotencyInterceptor),
    ApiHeader({
      name: 'Idempotency-Key',
      required: false,
      description:
        'Makes retries safe: the first request with a key runs; a repeat with the same key and the same request ' +
        '(route, path parameters, body, If-Match) answers the stored response (header Idempotent-Replayed: true) and ' +
        'writes nothing, on any instance, for IDEMPOTENCY_TTL_MS (default 24 h). 1-255 visible ASCII characters ' +
        '(no quotes or backslashes), optionally in double quotes. 5xx outcomes are not stored.',
    }),
    ApiResponse({ status: 400, description: 'REQUEST.INVALID_IDEMPOTENCY_KEY (among other validation errors)' }),
    ApiResponse({ status: 409, description: 'IDEMPOTENCY.IN_PROGRESS: a request with this key is still running (Retry-After: 1)' }),
    ApiResponse({ status: 422, description: 'IDEMPOTENCY.KEY_REUSED: this key was used for a different request' }),
  );
}
