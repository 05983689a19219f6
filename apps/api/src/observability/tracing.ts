import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { NodeSDK, tracing } from '@opentelemetry/sdk-node';

/** Service name on every span unless `OTEL_SERVICE_NAME` says otherwise. */
const DEFAULT_SERVICE_NAME = 'es-stampede-service';

/** Paths whose requests get no span: probes and scrapes would drown the traces of real work. */
const UNTRACED_PATHS = /^\/(health|metrics)(\/|\?|$)/;

export interface TracingOptions {
  /** Export spans here, one by one (tests), instead of OTLP as the `OTEL_*` variables configure it. */
  spanExporter?: tracing.SpanExporter;
}

/**
 * Starts the OpenTelemetry SDK with the HTTP, pg and ioredis instrumentations. It must run before
 * `http`, `pg` and `ioredis` are loaded: main.ts loads it first through tracing-preload.ts, and only
 * when `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set. Spans go to
 * OTLP per the standard `OTEL_EXPORTER_OTLP_*` variables (http/protobuf unless
 * `OTEL_EXPORTER_OTLP_PROTOCOL` says otherwise), in batches. Only traces are exported: the service's
 * metrics stay on /metrics. W3C trace context is propagated (`traceparent`, `tracestate`).
 */
export function startTracing(options: TracingOptions = {}): NodeSDK {
  process.env.OTEL_METRICS_EXPORTER ??= 'none';
  process.env.OTEL_LOGS_EXPORTER ??= 'none';
  const sdk = new NodeSDK({
    serviceName: process.env.OTEL_SERVICE_NAME ?? DEFAULT_SERVICE_NAME,
    spanProcessors: options.spanExporter ? [new tracing.SimpleSpanProcessor(options.spanExporter)] : undefined,
    instrumentations: [
      new HttpInstrumentation({ ignoreIncomingRequestHook: (req) => UNTRACED_PATHS.test(req.url ?? '') }),
      // Database and Redis calls only inside a trace: the projections' and cache's background polling would be noise.
      new PgInstrumentation({ requireParentSpan: true }),
      new IORedisInstrumentation({ requireParentSpan: true }),
    ],
  });
  sdk.start();
  return sdk;
}
