import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, Histogram, type Registry } from 'prom-client';
import { routeOf } from '../observability/request-ids';

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** Latency buckets in seconds: cache hits sit in the first ones, waits for a read model in the last. */
const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Records one finished response; `route` is the matched template, undefined when no route handled the request. */
export type RecordResponse = (method: string, route: string | undefined, status: number, seconds: number) => void;

/**
 * The HTTP metrics of every response: `http_requests_total` and the
 * `http_request_duration_seconds` histogram, labelled by method, route template
 * (`/users/:id`, never the raw path, so ids cannot explode the series) and status.
 * A request no route handled (unknown path; on Express also one a body parser refused)
 * counts as `unmatched`. Each platform feeds it from where it knows the route:
 * {@link httpMetricsMiddleware} on Express, hooks on Fastify (its middleware sees raw
 * Node objects without the route).
 */
export function httpMetrics(registry: Registry): RecordResponse {
  const labelNames = ['method', 'route', 'status'] as const;
  const requests = new Counter({ name: 'http_requests_total', help: 'HTTP responses sent', labelNames, registers: [registry] });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time from request to response finished, in seconds',
    labelNames,
    buckets: BUCKETS,
    registers: [registry],
  });
  return (method, route, status, seconds) => {
    const labels = { method: METHODS.has(method) ? method : 'OTHER', route: route ?? 'unmatched', status: String(status) };
    requests.inc(labels);
    duration.observe(labels, seconds);
  };
}

/** Express middleware feeding {@link httpMetrics}: Express sets `req.route` once a route matched. */
export function httpMetricsMiddleware(record: RecordResponse) {
  return (req: IncomingMessage, res: ServerResponse, next: () => void): void => {
    const started = process.hrtime.bigint();
    res.once('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      record(req.method ?? 'OTHER', routeOf(req), res.statusCode, seconds);
    });
    next();
  };
}
