import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Span } from '@opentelemetry/api';
import { eventAttributes, eventTraceContext } from '@app/event-store';
import type { StoredEvent, TraceMetadata } from '@app/event-store';

const TRACER = trace.getTracer('es-stampede-service');

/** The event fields a span about it needs. */
export type TracedEvent = Pick<StoredEvent, 'eventId' | 'type' | 'position' | 'streamId' | 'streamVersion' | 'metadata'>;

/**
 * Runs `work` for one stored event (e.g. publishing it) in a producer span `name` whose parent is the trace
 * context stored with the event (`metadata.traceparent`), so the work shows in the trace of the
 * request that appended it. `work` gets the span and the trace headers to send on with the event:
 * the span's own context when tracing is on, else the stored `traceparent`/`tracestate` unchanged.
 * The span ends when `work` settles and is marked failed when it throws. Costs next to nothing
 * without a tracing SDK.
 */
export function withEventSpan<T>(name: string, event: TracedEvent, work: (span: Span, headers: TraceMetadata) => Promise<T>): Promise<T> {
  const parent = eventTraceContext(event.metadata);
  return TRACER.startActiveSpan(name, { kind: SpanKind.PRODUCER, attributes: eventAttributes(event) }, parent, async (span) => {
    try {
      return await work(span, traceHeaders(event));
    } catch (error) {
      span.recordException(error instanceof Error ? error : String(error));
      span.setStatus({ code: SpanStatusCode.ERROR });
      throw error;
    } finally {
      span.end();
    }
  });
}

/** The trace headers for the active span, falling back to those stored with `event`. */
function traceHeaders(event: TracedEvent): TraceMetadata {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  const { traceparent, tracestate } = carrier.traceparent ? carrier : event.metadata;
  return { ...(traceparent ? { traceparent } : {}), ...(tracestate ? { tracestate } : {}) };
}
