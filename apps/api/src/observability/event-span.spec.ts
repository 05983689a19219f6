import { context, propagation, SpanKind, trace } from '@opentelemetry/api';
import { node, tracing } from '@opentelemetry/sdk-node';
import { withEventSpan, type TracedEvent } from './event-span';

const event = (metadata: TracedEvent['metadata']): TracedEvent => ({
  eventId: '7f9c2ba4-e88f-4f0a-9a0b-7f1e8b0f3a11',
  type: 'UserRegistered',
  position: 42,
  streamId: 'user-1',
  streamVersion: 1,
  metadata,
});
const stored = { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', tracestate: 'vendor=1' };

describe('withEventSpan', () => {
  it('without an SDK: runs the work and passes the stored trace headers on unchanged', async () => {
    const seen = await withEventSpan('relay.publish', event({ ...stored }), async (span, headers) => ({
      recording: span.isRecording(),
      headers,
    }));
    expect(seen).toEqual({ recording: false, headers: stored });
    expect(await withEventSpan('relay.publish', event({}), async (_, headers) => headers)).toEqual({});
  });

  describe('with an SDK', () => {
    const exporter = new tracing.InMemorySpanExporter();
    beforeAll(() => new node.NodeTracerProvider({ spanProcessors: [new tracing.SimpleSpanProcessor(exporter)] }).register());
    afterAll(() => {
      trace.disable();
      context.disable();
      propagation.disable();
    });
    beforeEach(() => exporter.reset());

    it("parents the span with the event's stored context and sends the span's own context on", async () => {
      const headers = await withEventSpan('relay.publish', event({ ...stored }), async (_, h) => h);
      const [span] = exporter.getFinishedSpans();
      expect(span).toMatchObject({ name: 'relay.publish', kind: SpanKind.PRODUCER });
      expect(span.spanContext().traceId).toBe('0af7651916cd43dd8448eb211c80319c');
      expect(span.parentSpanContext?.spanId).toBe('b7ad6b7169203331');
      expect(span.attributes).toMatchObject({ 'event.id': event({}).eventId, 'event.type': 'UserRegistered', 'event_store.position': 42 });
      expect(headers).toEqual({
        traceparent: `00-0af7651916cd43dd8448eb211c80319c-${span.spanContext().spanId}-01`,
        tracestate: 'vendor=1',
      });
    });

    it('ends the span as failed when the work throws, and rethrows', async () => {
      await expect(
        withEventSpan('relay.publish', event({ ...stored }), async () => {
          throw new Error('nack');
        }),
      ).rejects.toThrow('nack');
      const [span] = exporter.getFinishedSpans();
      expect(span.status.code).toBe(2); // ERROR
      expect(span.events[0]).toMatchObject({ name: 'exception' });
    });

    it('starts a root span for an event stored without a trace context', async () => {
      await withEventSpan('relay.publish', event({ correlationId: 'c' }), async () => undefined);
      expect(exporter.getFinishedSpans()[0].parentSpanContext).toBeUndefined();
    });
  });
});
