import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import helmet from 'helmet';
import { Logger as PinoLogger } from 'nestjs-pino';
import type { Registry } from 'prom-client';
import { AppModule } from './app.module';
import { requireAccess } from './common/operational-access';
import { RequestValidationPipe } from './common/validation';
import type { AppConfig } from './config/app-config';
import { httpMetrics } from './metrics/http-metrics';
import { METRICS_REGISTRY } from './metrics/metrics.registry';
import type { LogOutput } from './observability/logging';

/**
 * Builds the HTTP application exactly as production runs it (security headers, HTTP
 * metrics, body limits, validation, problem+json, OpenAPI); used by main.ts and the e2e tests.
 */
export async function createApp(
  config: AppConfig & { DATABASE_URL: string },
  options: { shutdownHooks?: boolean; log?: LogOutput } = {},
): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, options.log), {
    bodyParser: false,
    bufferLogs: true,
  });
  // Every Nest log line, start-up included, goes through pino (JSON, request ids, redaction): see observability/logging.ts.
  app.useLogger(app.get(PinoLogger));
  app.flushLogs(); // Nest would hold them until listen(); tests never listen
  // The client IP (rate limit) comes from X-Forwarded-For only through this many trusted proxies.
  if (config.TRUST_PROXY > 0) app.set('trust proxy', config.TRUST_PROXY);
  app.use(helmet());
  app.use(httpMetrics(app.get<Registry>(METRICS_REGISTRY)));
  app.useBodyParser('json', { limit: config.BODY_LIMIT_BYTES, strict: true });
  app.useGlobalPipes(new RequestValidationPipe());
  if (options.shutdownHooks ?? true) app.enableShutdownHooks();
  app.disable('x-powered-by');
  // Express' automatic weak ETags would look like versions to If-Match clients; only real versions are sent.
  app.set('etag', false);
  const openApi = new DocumentBuilder()
    .setTitle('Users service')
    .setDescription('Event-sourced users with upcast history and a stampede-proof read cache')
    .addBearerAuth()
    .build();
  if (config.DOCS_ACCESS !== 'off') {
    app.use(['/docs', '/docs-json', '/docs-yaml'], requireAccess(config.DOCS_ACCESS, config.ADMIN_TOKEN));
    SwaggerModule.setup('docs', app, () => SwaggerModule.createDocument(app, openApi));
  }
  return app;
}
