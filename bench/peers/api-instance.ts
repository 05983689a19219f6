/**
 * The users service as main.ts starts it (tracing preload first, so OTEL_EXPORTER_OTLP_ENDPOINT
 * decides whether the OpenTelemetry SDK loads at all), on the database in DATABASE_URL. A child of
 * bench/tracing-http.bench.ts: sends { url } once listening, closes on "stop".
 */
import '../../apps/api/src/observability/tracing-preload';
import 'reflect-metadata';
import { createApp } from '../../apps/api/src/bootstrap';
import { loadConfig } from '../../apps/api/src/config/app-config';
import { serveParent } from '../app-instances';
import { BENCH_PII_MASTER_KEY } from '../bench-env';

async function main(): Promise<void> {
  // DATABASE_URL is set, so the service needs a master key for personal data: the benchmarks' own unless given.
  const config = loadConfig({ ...process.env, PII_MASTER_KEY: BENCH_PII_MASTER_KEY });
  const app = await createApp({ ...config, DATABASE_URL: config.DATABASE_URL as string }, { shutdownHooks: false });
  await app.listen(0, '127.0.0.1');
  serveParent(await app.getUrl(), () => app.close());
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
