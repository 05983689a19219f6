import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { trace } from '@opentelemetry/api';

/** A tracer provider that can flush (the SDK's); the API's no-op one cannot. */
interface Flushable {
  forceFlush?: () => Promise<void>;
}

/**
 * Exports the spans still buffered when the app shuts down, so the last requests' traces are
 * not lost on a deploy. A no-op without a tracing SDK.
 */
@Injectable()
export class TracingFlush implements OnApplicationShutdown {
  async onApplicationShutdown(): Promise<void> {
    const provider = trace.getTracerProvider() as { getDelegate?: () => Flushable } & Flushable;
    const flushable = provider.getDelegate?.() ?? provider;
    await flushable.forceFlush?.().catch(() => undefined);
  }
}
