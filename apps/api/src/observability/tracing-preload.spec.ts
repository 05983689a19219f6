import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/** Loads the preload in a fresh process (Jest's registry would hide what Node loads) and lists the OpenTelemetry SDK modules loaded. */
function sdkModulesLoaded(env: Record<string, string>): string[] {
  const script = `require(${JSON.stringify(join(__dirname, 'tracing-preload.ts'))});
    const loaded = Object.keys(require.cache).filter((k) => /@opentelemetry\\/(sdk-|instrumentation)/.test(k));
    console.log(JSON.stringify(loaded.length));`;
  const { OTEL_EXPORTER_OTLP_ENDPOINT: _a, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: _b, ...rest } = process.env;
  const run = spawnSync(process.execPath, ['-r', '@swc-node/register', '-e', script], { env: { ...rest, ...env }, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(run.stderr);
  return JSON.parse(run.stdout.trim().split('\n').pop() as string);
}

describe('tracing preload', () => {
  it('loads no part of the SDK when OTEL_EXPORTER_OTLP_ENDPOINT is unset', () => {
    expect(sdkModulesLoaded({})).toBe(0);
  });

  it('starts the SDK when it is set', () => {
    expect(sdkModulesLoaded({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' })).toBeGreaterThan(0);
  });
});
