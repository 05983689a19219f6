import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { from, lastValueFrom, map, type Observable } from 'rxjs';
import type { CacheKey, CacheKeyInput } from '../cache-key';
import { StampedeCache } from '../stampede-cache.service';
import { CACHE_ROUTE_METADATA, type CacheRouteOptions } from './cache-route.options';

/** Marks a request already served through the cache, so stacked interceptors never nest a key inside itself. */
const HANDLED = Symbol('stampede-cache:handled');

interface HttpRequestLike {
  method: string;
  params?: Record<string, string>;
  query?: Record<string, unknown>;
  route?: { path?: string };
  routeOptions?: { url?: string };
  baseUrl?: string;
  [HANDLED]?: boolean;
}

interface HttpResponseLike {
  setHeader?: (name: string, value: string) => void;
  header?: (name: string, value: string) => void;
}

/**
 * HTTP read-through cache for routes marked with `@CacheRoute`; other routes and
 * non-GET requests pass through untouched. Only the handler's return value is cached
 * (not status codes or headers), so use it for plain JSON GET endpoints.
 */
@Injectable()
export class StampedeCacheInterceptor implements NestInterceptor {
  constructor(
    private readonly cache: StampedeCache,
    private readonly reflector: Reflector,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const options = this.reflector.getAllAndOverride<CacheRouteOptions | undefined>(CACHE_ROUTE_METADATA, [
      context.getHandler(),
      context.getClass(),
    ]);
    const request = context.switchToHttp().getRequest<HttpRequestLike>();
    if (!options || context.getType() !== 'http' || !['GET', 'HEAD'].includes(request.method) || request[HANDLED]) return next.handle();
    request[HANDLED] = true;

    const params = { ...(request.params ?? {}) };
    const query = allowListedQuery(request.query ?? {}, options.queryParams ?? []);
    const key = this.routeKey(context, request, params, query);
    const { queryParams: _allowList, tags, cache, ...entryOptions } = options;
    const response = context.switchToHttp().getResponse<HttpResponseLike>();
    const handle = (): Promise<unknown> => lastValueFrom(next.handle(), { defaultValue: undefined });
    const result = this.cache.getOrComputeWithStatus(key, handle, {
      ...entryOptions,
      cache: cache ?? 'http',
      tags: tags?.({ params, query }), // known before computing, so stamped before: an invalidation meanwhile wins
    });
    return from(result).pipe(
      map(({ value, status }) => {
        if (response.setHeader) response.setHeader('X-Cache', status);
        else response.header?.('X-Cache', status);
        return value;
      }),
    );
  }

  private routeKey(
    context: ExecutionContext,
    request: HttpRequestLike,
    params: Record<string, string>,
    query: Record<string, string | undefined>,
  ): CacheKey {
    // The route template (`/users/:id`), never the concrete URL; handler identity when the platform hides it.
    const template =
      request.route?.path !== undefined
        ? `${request.baseUrl ?? ''}${request.route.path}`
        : (request.routeOptions?.url ?? `${context.getClass().name}.${context.getHandler().name}`);
    const inputs: Record<string, CacheKeyInput> = {};
    for (const [name, value] of Object.entries(params)) inputs[`path.${name}`] = value;
    for (const [name, value] of Object.entries(query)) inputs[`query.${name}`] = value;
    return this.cache.buildKey(`http ${template}`, inputs);
  }
}

/** First value of each allow-listed param, trimmed; empty counts as absent so `?limit=` equals no limit. */
function allowListedQuery(query: Record<string, unknown>, allowList: string[]): Record<string, string | undefined> {
  const picked: Record<string, string | undefined> = {};
  for (const name of allowList) {
    const raw = Array.isArray(query[name]) ? (query[name] as unknown[])[0] : query[name];
    const value = typeof raw === 'string' ? raw.trim() : undefined;
    picked[name] = value ? value : undefined;
  }
  return picked;
}
