import type { ExecutionContext } from '@nestjs/common';
import { CacheKey, type CacheKeyInput, type KeyShape } from '../core/cache-key';
import type { CacheRouteOptions } from './cache-route.options';

/** The parts of an HTTP request (Express or Fastify) a route's cache key is made of. */
export interface HttpRequestLike {
  method: string;
  params?: Record<string, string>;
  query?: Record<string, unknown>;
  route?: { path?: string };
  routeOptions?: { url?: string };
  baseUrl?: string;
}

/** How one cached route turns a request into its key, and into the inputs its `tags` option receives. */
export interface RouteKeys {
  key(request: HttpRequestLike): CacheKey;
  inputs(request: HttpRequestLike): { params: Record<string, string>; query: Record<string, string | undefined> };
}

/** The route template of a request (`/users/:id`, never the concrete URL); handler identity when the platform hides it. */
export function routeTemplate(context: ExecutionContext, request: HttpRequestLike): string {
  if (request.route?.path !== undefined) return request.baseUrl ? `${request.baseUrl}${request.route.path}` : request.route.path;
  return request.routeOptions?.url ?? `${context.getClass().name}.${context.getHandler().name}`;
}

/**
 * The key rule of `@CacheRoute`: the route template, its path params and the allow-listed
 * query params (first value, trimmed; empty counts as absent so `?limit=` equals no limit).
 * Made once per route template: the names are fixed for a route, so each later request
 * only encodes its values (see {@link CacheKey.shape}); a request whose path params differ
 * from the first one's (an optional segment) gets its key built the general way.
 */
export function routeKeys(template: string, first: HttpRequestLike, options: CacheRouteOptions): RouteKeys {
  const part = `http ${template}`;
  const pathNames = Object.keys(first.params ?? {});
  const queryNames = options.queryParams ?? [];
  const shape: KeyShape = CacheKey.shape(part, [...pathNames.map((name) => `path.${name}`), ...queryNames.map((name) => `query.${name}`)]);
  const inputs = (request: HttpRequestLike) => ({
    params: { ...(request.params ?? {}) },
    query: Object.fromEntries(queryNames.map((name) => [name, allowListed(request.query?.[name])])) as Record<string, string | undefined>,
  });
  const general = (request: HttpRequestLike): CacheKey => {
    const { params, query } = inputs(request);
    const named: Record<string, CacheKeyInput> = {};
    for (const [name, value] of Object.entries(params)) named[`path.${name}`] = value;
    for (const [name, value] of Object.entries(query)) named[`query.${name}`] = value;
    return CacheKey.of(part, named);
  };
  const key = (request: HttpRequestLike): CacheKey => {
    const params = request.params ?? {};
    if (!sameNames(params, pathNames)) return general(request);
    if (pathNames.length + queryNames.length === 0) return shape.key([]);
    const query = request.query ?? {};
    return shape.key([...pathNames.map((name) => params[name]), ...queryNames.map((name) => allowListed(query[name]))]);
  };
  return { key, inputs };
}

/** Whether `params` has exactly these names (counted without building an array). */
function sameNames(params: Record<string, string>, names: string[]): boolean {
  let count = 0;
  for (const name in params) {
    if (!Object.prototype.hasOwnProperty.call(params, name)) continue;
    count += 1;
  }
  return count === names.length && names.every((name) => name in params);
}

function allowListed(raw: unknown): string | undefined {
  const first = Array.isArray(raw) ? (raw as unknown[])[0] : raw;
  const value = typeof first === 'string' ? first.trim() : undefined;
  return value ? value : undefined;
}
