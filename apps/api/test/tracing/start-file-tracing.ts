import { startTracing } from '../../src/observability/tracing';
import { FileSpanExporter } from './file-span-exporter';

/** Loaded first by traced-app.ts, as tracing-preload.ts is by main.ts: the SDK starts before http, pg and ioredis load. */
export const sdk = startTracing({ spanExporter: new FileSpanExporter(process.env.SPAN_FILE as string) });
