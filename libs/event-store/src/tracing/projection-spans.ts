import { context, trace } from '@opentelemetry/api';
import type { Context, Link, Span } from '@opentelemetry/api';
import type { RecordedEvent } from '../types';
import { EVENT_STORE_TRACER, eventTraceContext, failSpan } from './event-trace';

/** The spans of one projection batch: a batch span, and one apply span per event. */
export interface BatchSpans {
  /** The context to run the batch's work in (its database spans become children of the batch span). */
  readonly context: Context;
  end(error?: unknown): void;
}

/**
 * Starts the spans of a projection batch. Each event gets its own `projection.apply` span whose
 * parent is the trace context stored with the event (so the request that appended it sees its
 * projection in its own trace); the `projection.batch` span links to those contexts. The batch
 * applies its events in one call and one transaction, so the apply spans share the batch's timing.
 * Without a tracing SDK the batch span does not record and no per-event span is started.
 */
export function startBatchSpans(projection: string, phase: string, events: RecordedEvent[]): BatchSpans {
  const parents = events.map((e) => eventTraceContext(e.metadata));
  const links: Link[] = [];
  for (const parent of parents) {
    const spanContext = trace.getSpanContext(parent);
    if (spanContext) links.push({ context: spanContext });
  }
  const attributes = {
    'projection.name': projection,
    'projection.phase': phase,
    'projection.events': events.length,
    'event_store.position.from': events[0]?.position ?? 0,
    'event_store.position.to': events[events.length - 1]?.position ?? 0,
  };
  const batch = EVENT_STORE_TRACER.startSpan(`projection.batch ${projection}`, { attributes, links, root: true });
  const applies: Span[] = [];
  if (batch.isRecording()) {
    const batchLink = [{ context: batch.spanContext() }];
    events.forEach((e, i) =>
      applies.push(
        EVENT_STORE_TRACER.startSpan(
          `projection.apply ${projection}`,
          { attributes: { ...eventAttributes(e), 'projection.name': projection, 'projection.phase': phase }, links: batchLink },
          parents[i],
        ),
      ),
    );
  }
  return {
    context: trace.setSpan(context.active(), batch),
    end(error?: unknown) {
      for (const span of [...applies, batch]) {
        if (error !== undefined) failSpan(span, error);
        span.end();
      }
    },
  };
}

/** The attributes naming an event on its spans. */
export function eventAttributes(e: Pick<RecordedEvent, 'eventId' | 'type' | 'position' | 'streamId' | 'streamVersion'>) {
  return {
    'event.id': e.eventId,
    'event.type': e.type,
    'event_store.position': e.position,
    'event_store.stream_id': e.streamId,
    'event_store.stream_version': e.streamVersion,
  };
}
