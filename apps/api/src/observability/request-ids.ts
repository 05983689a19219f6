import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** The rule a client-sent `X-Request-Id` or `X-Correlation-Id` must meet to be kept. */
const SAFE_ID = /^[A-Za-z0-9._:-]{1,100}$/;

/** The ids of one request: its own, and the correlation id of the work it belongs to. */
export interface RequestIds {
  requestId: string;
  correlationId: string;
}

const IDS = Symbol('requestIds');
const ROUTE = Symbol('routePattern');
const MIDDLEWARE_ROUTE = Symbol('middlewareRoute');

type Tagged = IncomingMessage & {
  [IDS]?: RequestIds;
  [ROUTE]?: string;
  [MIDDLEWARE_ROUTE]?: unknown;
  route?: { path?: unknown };
  baseUrl?: string;
};

/**
 * The request's ids, decided once per request on the raw Node request (so Express and Fastify
 * share it): `X-Request-Id` when it meets {@link SAFE_ID}, else a fresh UUID; `X-Correlation-Id`
 * likewise, else the request id. When `res` is given both are echoed as response headers.
 */
export function requestIdsOf(req: IncomingMessage, res?: ServerResponse): RequestIds {
  const tagged = req as Tagged;
  let ids = tagged[IDS];
  if (!ids) {
    // Called first from the logging middleware, which Express runs as a catch-all route: remember that route, so a
    // request no controller matched is not taken for one that matched its catch-all pattern (see routeOf).
    tagged[MIDDLEWARE_ROUTE] = tagged.route?.path;
    const requestId = safeHeader(req, 'x-request-id') ?? randomUUID();
    ids = { requestId, correlationId: safeHeader(req, 'x-correlation-id') ?? requestId };
    tagged[IDS] = ids;
  }
  if (res && !res.headersSent) {
    res.setHeader('X-Request-Id', ids.requestId);
    res.setHeader('X-Correlation-Id', ids.correlationId);
  }
  return ids;
}

/** The raw Node request behind a framework request (Fastify wraps it in `.raw`; Express extends it). */
export function rawRequest(req: unknown): IncomingMessage {
  return ((req as { raw?: IncomingMessage }).raw ?? req) as IncomingMessage;
}

/** Records the matched route pattern (e.g. `/users/:id`) for the request's log line; for adapters that do not expose it on the raw request. */
export function markRoute(req: IncomingMessage, pattern: string): void {
  (req as Tagged)[ROUTE] = pattern;
}

/**
 * The matched route pattern (`/users/:id`), when a route handled the request: what {@link markRoute} recorded,
 * else Express' `req.route` unless that is only the catch-all route of a middleware.
 */
export function routeOf(req: IncomingMessage): string | undefined {
  const tagged = req as Tagged;
  if (tagged[ROUTE]) return tagged[ROUTE];
  if (tagged.route && tagged.route.path === tagged[MIDDLEWARE_ROUTE]) return undefined;
  const path = tagged.route?.path;
  return typeof path === 'string' ? `${tagged.baseUrl ?? ''}${path}` : undefined;
}

function safeHeader(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === 'string' && SAFE_ID.test(value) ? value : undefined;
}
