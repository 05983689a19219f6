import { applyDecorators, SetMetadata, UseInterceptors } from '@nestjs/common';
import { ApiHeader, ApiResponse } from '@nestjs/swagger';
import type { StoredResponse } from './idempotency.store';
import { IdempotencyInterceptor } from './idempotency.interceptor';

export const IDEMPOTENT_RESPONSE = 'idempotent-response';

/**
 * Turns a command's result into the response the route sends (status, `Location`,
 * `ETag`, body). The route sends it with {@link sendStored}; the idempotency interceptor
 * stores the same response in the command's transaction.
 */
export type ResponseBuilder<R = unknown> = (result: R) => StoredResponse;

/**
 * Makes a command route honour `Idempotency-Key` (IETF HTTPAPI draft): the first request
 * with a key runs and its response is stored; a repeat with the same key and request
 * answers the stored response and writes nothing; see `IdempotencyInterceptor`.
 */
export function Idempotent<R>(respond: ResponseBuilder<R>): MethodDecorator {
  return applyDecorators(
    // The interceptor hands the builder the route's command result, which is an R; metadata cannot carry the type.
    SetMetadata(IDEMPOTENT_RESPONSE, respond as ResponseBuilder),
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

/** Sets a built response's headers on `res` and returns its body (the route's status is its default one). */
export function sendStored(res: { header(name: string, value: string): unknown }, response: StoredResponse): unknown {
  for (const [name, value] of Object.entries(response.headers)) res.header(name, value);
  return response.body;
}
