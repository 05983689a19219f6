import { SpanStatusCode, trace } from '@opentelemetry/api';
import type { Span } from '@opentelemetry/api';
import type { CacheResult } from './cache-result';

/**
 * Spans of the cache, through `@opentelemetry/api` only: without an OpenTelemetry SDK in the
 * process they are the API's no-op spans, so the cache needs no tracing set-up and pays next to
 * nothing for them.
 */
const TRACER = trace.getTracer('@app/stampede-cache');

/** Runs a cache read in a `cache.get` span whose `cache.result` is `hit`, `stale` or `miss`. */
export function tracedRead<T>(cache: string, read: () => Promise<CacheResult<T>>): Promise<CacheResult<T>> {
  return TRACER.startActiveSpan('cache.get', { attributes: { 'cache.name': cache } }, (span) =>
    read().then(
      (result) => {
        span.setAttributes({ 'cache.result': result.status.toLowerCase(), 'cache.key': result.key });
        span.end();
        return result;
      },
      (error: unknown) => {
        span.setAttribute('cache.result', 'miss');
        fail(span, error);
        throw error;
      },
    ),
  );
}

/**
 * Records an L1 hit, served synchronously, as a finished `cache.get` span (`cache.result` hit).
 * Without an SDK the span is the API's non-recording one: no attributes are built for it.
 */
export function traceHit(cache: string, key: string): void {
  const span = TRACER.startSpan('cache.get');
  if (span.isRecording()) span.setAttributes({ 'cache.name': cache, 'cache.result': 'hit', 'cache.key': key });
  span.end();
}

/** Runs a factory in a `cache.compute` span (a child of the read that started the computation). */
export function tracedFactory<T>(key: string, run: () => Promise<T>): Promise<T> {
  return TRACER.startActiveSpan('cache.compute', { attributes: { 'cache.key': key } }, (span) =>
    run().then(
      (value) => {
        span.end();
        return value;
      },
      (error: unknown) => {
        fail(span, error);
        throw error;
      },
    ),
  );
}

function fail(span: Span, error: unknown): void {
  span.recordException(error instanceof Error ? error : String(error));
  span.setStatus({ code: SpanStatusCode.ERROR });
  span.end();
}
