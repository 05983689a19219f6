import type { DynamicModule, INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import helmet from 'helmet';
import type { Registry } from 'prom-client';
import { DOCS_PATHS, requireAccess } from '../common/operational-access';
import type { AppConfig } from '../config/app-config';
import { httpMetrics, httpMetricsMiddleware } from '../metrics/http-metrics';
import { METRICS_REGISTRY } from '../metrics/metrics.registry';

/**
 * The app on Express (`HTTP_ADAPTER=express`): helmet, HTTP metrics, the JSON body limit,
 * trusted proxies and the docs' access rule as Express middleware and settings.
 * `POST /admin/events/import` reads its own NDJSON body: no parser is registered for it.
 */
export async function createExpressApp(module: DynamicModule, config: AppConfig): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(module, { bodyParser: false, bufferLogs: true });
  // The client IP (rate limit) comes from X-Forwarded-For only through this many trusted proxies.
  if (config.TRUST_PROXY > 0) app.set('trust proxy', config.TRUST_PROXY);
  app.use(helmet());
  app.use(httpMetricsMiddleware(httpMetrics(app.get<Registry>(METRICS_REGISTRY))));
  app.useBodyParser('json', { limit: config.BODY_LIMIT_BYTES, strict: true });
  app.disable('x-powered-by');
  // Express' automatic weak ETags would look like versions to If-Match clients; only real versions are sent.
  app.set('etag', false);
  if (config.DOCS_ACCESS !== 'off') app.use(DOCS_PATHS, requireAccess(config.DOCS_ACCESS, config.ADMIN_TOKEN));
  return app;
}
