import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { from, lastValueFrom, of, type Observable } from 'rxjs';
import type { CacheKey } from '../core/cache-key';
import type { PreparedCall } from '../core/prepared-call';
import { StampedeCache } from '../core/stampede-cache.service';
import { CACHE_ROUTE_METADATA, type CacheRouteOptions } from './cache-route.options';
import { routeKeys, routeTemplate, type HttpRequestLike, type RouteKeys } from './route-keys';

/** Marks a request already served through the cache, so stacked interceptors never nest a key inside itself. */
const HANDLED = Symbol('stampede-cache:handled');

interface HttpResponseLike {
  setHeader?: (name: string, value: string) => void;
  header?: (name: string, value: string) => void;
}

/** What a cached route needs per request, worked out at its first request: options resolved, key shape known. */
interface RoutePlan {
  options: CacheRouteOptions;
  call: PreparedCall;
  /** By route template: one handler may serve several paths (`@Get(['a', 'b'])`). */
  keys: Map<string, RouteKeys>;
}

/**
 * HTTP read-through cache for routes marked with `@CacheRoute`; other routes and
 * non-GET requests pass through untouched. Only the handler's return value is cached
 * (not status codes or headers), so use it for plain JSON GET endpoints.
 *
 * An L1 hit is the hot path: the route's options are resolved and its key shape built at its
 * first request (per handler and controller), the hit is answered synchronously with `of(value)`
 * (no promise, no rxjs operator, the handler's observable never created), and nothing else is
 * allocated but the key of a route with parameters. See docs/benchmarks.md (HTTP hot path).
 */
@Injectable()
export class StampedeCacheInterceptor implements NestInterceptor {
  /** Per handler, per controller class (a handler inherited by two controllers may carry two options); null: not cached. */
  private readonly plans = new WeakMap<object, WeakMap<object, RoutePlan | null>>();

  constructor(
    private readonly cache: StampedeCache,
    private readonly reflector: Reflector,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const plan = this.plan(context);
    const request = context.getArgByIndex<HttpRequestLike & { [HANDLED]?: boolean }>(0);
    if (!plan || (request.method !== 'GET' && request.method !== 'HEAD') || request[HANDLED]) return next.handle();
    request[HANDLED] = true;

    const template = routeTemplate(context, request);
    let keys = plan.keys.get(template);
    if (!keys) plan.keys.set(template, (keys = routeKeys(template, request, plan.options)));
    const key: CacheKey = keys.key(request);
    const tags = plan.options.tags?.(keys.inputs(request));
    const read = { key, call: plan.call, factory: () => () => lastValueFrom(next.handle(), { defaultValue: undefined }), tags };
    const response = context.getArgByIndex<HttpResponseLike>(1);
    const hit = this.cache.hitL1(read);
    if (hit) {
      setCacheHeader(response, 'HIT');
      return of(hit.value);
    }
    return from(
      this.cache.readAfterMiss(read).then(({ value, status }) => {
        setCacheHeader(response, status);
        return value;
      }),
    );
  }

  private plan(context: ExecutionContext): RoutePlan | null {
    const handler = context.getHandler();
    const controller = context.getClass();
    let byClass = this.plans.get(handler);
    if (!byClass) this.plans.set(handler, (byClass = new WeakMap()));
    let plan = byClass.get(controller);
    if (plan === undefined) {
      const options = this.reflector.getAllAndOverride<CacheRouteOptions | undefined>(CACHE_ROUTE_METADATA, [handler, controller]);
      plan = options ? this.prepare(options) : null;
      byClass.set(controller, plan);
    }
    return plan;
  }

  private prepare(options: CacheRouteOptions): RoutePlan {
    const { queryParams: _allowList, tags: _tags, cache, ...entryOptions } = options;
    return { options, call: this.cache.prepare({ ...entryOptions, cache: cache ?? 'http' }), keys: new Map() };
  }
}

function setCacheHeader(response: HttpResponseLike, status: string): void {
  if (response.setHeader) response.setHeader('X-Cache', status);
  else response.header?.('X-Cache', status);
}
