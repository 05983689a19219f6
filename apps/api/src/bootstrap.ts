import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger as PinoLogger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { RequestValidationPipe } from './common/validation';
import type { AppConfig } from './config/app-config';
import { createExpressApp } from './http-platform/express-platform';
import { createFastifyApp } from './http-platform/fastify-platform';
import type { LogOutput } from './observability/logging';

/**
 * Builds the HTTP application exactly as production runs it (security headers, HTTP
 * metrics, body limits, validation, problem+json, OpenAPI) on the platform HTTP_ADAPTER
 * names; used by main.ts and the e2e tests. On Fastify, call `ready()` on its instance
 * after `app.init()` before handing `getHttpServer()` to supertest (`listen` does it).
 */
export async function createApp(
  config: AppConfig & { DATABASE_URL: string },
  options: { shutdownHooks?: boolean; log?: LogOutput } = {},
): Promise<INestApplication> {
  const create = config.HTTP_ADAPTER === 'fastify' ? createFastifyApp : createExpressApp;
  const app = await create(AppModule.forRoot(config, options.log), config);
  // Every Nest log line, start-up included, goes through pino (JSON, request ids, redaction): see observability/logging.ts.
  app.useLogger(app.get(PinoLogger));
  app.flushLogs(); // Nest would hold them until listen(); tests never listen
  app.useGlobalPipes(new RequestValidationPipe());
  if (options.shutdownHooks ?? true) app.enableShutdownHooks();
  const openApi = new DocumentBuilder()
    .setTitle('Users service')
    .setDescription('Event-sourced users with upcast history and a stampede-proof read cache')
    .addBearerAuth()
    .build();
  if (config.DOCS_ACCESS !== 'off') SwaggerModule.setup('docs', app, () => SwaggerModule.createDocument(app, openApi));
  return app;
}

/** The address to listen on: every interface (Fastify's own default is localhost only, which a container cannot be reached on). */
export function listenHost(config: Pick<AppConfig, 'HTTP_ADAPTER'>): string | undefined {
  return config.HTTP_ADAPTER === 'fastify' ? '0.0.0.0' : undefined;
}
