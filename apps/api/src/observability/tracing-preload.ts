/**
 * Loaded first by main.ts (before anything that loads `http`, `pg` or `ioredis`): starts tracing
 * when an OTLP endpoint is configured. Without one the SDK is not even loaded, and every span the
 * code starts is `@opentelemetry/api`'s no-op.
 */
if (process.env.OTEL_EXPORTER_OTLP_ENDPOINT || process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only when tracing is on: that is the point
  (require('./tracing') as typeof import('./tracing')).startTracing();
}
