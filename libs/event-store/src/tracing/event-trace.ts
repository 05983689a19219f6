import { context, propagation, ROOT_CONTEXT, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Attributes, Context, Span, TextMapGetter } from '@opentelemetry/api';
import type { EventMetadata } from '../types';

/**
 * Trace context through the log, with `@opentelemetry/api` only: without an OpenTelemetry SDK
 * registered every call here is a no-op (no span is recorded, nothing is added to metadata), so
 * the library needs no tracing set-up. With one, an append stores the W3C trace context of its
 * span in each event's metadata (`traceparent`, `tracestate`), and whoever handles the event later
 * (a projection, a relay) can continue that trace with {@link eventTraceContext}.
 */
export const EVENT_STORE_TRACER = trace.getTracer('@app/event-store');

/** The W3C trace context fields an event's metadata may carry. */
export interface TraceMetadata {
  traceparent?: string;
  tracestate?: string;
}

const METADATA_GETTER: TextMapGetter<EventMetadata> = {
  keys: () => ['traceparent', 'tracestate'],
  get: (carrier, key) => (typeof carrier[key] === 'string' ? carrier[key] : undefined),
};

/** The active trace context as metadata fields; empty when no span is active or no propagator is registered. */
export function activeTraceMetadata(): TraceMetadata {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  if (!carrier.traceparent) return {};
  return carrier.tracestate ? { traceparent: carrier.traceparent, tracestate: carrier.tracestate } : { traceparent: carrier.traceparent };
}

/**
 * The trace context stored with an event (its `traceparent`), to parent the spans of work done
 * for it; the root context when it has none or tracing is off.
 */
export function eventTraceContext(metadata: EventMetadata | undefined): Context {
  if (!metadata || typeof metadata.traceparent !== 'string') return ROOT_CONTEXT;
  return propagation.extract(ROOT_CONTEXT, metadata, METADATA_GETTER);
}

/** Runs `work` in an active span `name` that ends with it (marked as an error when it throws). */
export function inSpan<T>(name: string, attributes: Attributes, work: (span: Span) => Promise<T>): Promise<T> {
  return EVENT_STORE_TRACER.startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await work(span);
    } catch (error) {
      failSpan(span, error);
      throw error;
    } finally {
      span.end();
    }
  });
}

/** Records `error` on `span` and marks it failed. */
export function failSpan(span: Span, error: unknown): void {
  span.recordException(error instanceof Error ? error : String(error));
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
}
