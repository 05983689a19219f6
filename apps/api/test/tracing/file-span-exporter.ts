import { appendFileSync } from 'node:fs';
import { core, type tracing } from '@opentelemetry/sdk-node';

/** A finished span as the tracing test reads it back. */
export interface ExportedSpan {
  name: string;
  kind: number;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  links: Array<{ traceId: string; spanId: string }>;
  attributes: Record<string, unknown>;
  status: number;
}

/** Appends each finished span as a JSON line to `path`: the in-memory exporter of a child process, readable by the test. */
export class FileSpanExporter implements tracing.SpanExporter {
  constructor(private readonly path: string) {}

  export(spans: tracing.ReadableSpan[], done: (result: core.ExportResult) => void): void {
    const lines = spans.map((s) => {
      const exported: ExportedSpan = {
        name: s.name,
        kind: s.kind,
        traceId: s.spanContext().traceId,
        spanId: s.spanContext().spanId,
        parentSpanId: s.parentSpanContext?.spanId,
        links: s.links.map((l) => ({ traceId: l.context.traceId, spanId: l.context.spanId })),
        attributes: { ...s.attributes },
        status: s.status.code,
      };
      return JSON.stringify(exported) + '\n';
    });
    appendFileSync(this.path, lines.join(''));
    done({ code: core.ExportResultCode.SUCCESS });
  }

  async shutdown(): Promise<void> {}
}
