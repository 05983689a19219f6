import type { INestApplication, LogLevel } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { AppModule } from './app.module';
import { RequestValidationPipe } from './common/validation';
import { AppConfig, LOG_LEVELS } from './config/app-config';
import { createExpressApp } from './http-platform/express-platform';
import { createFastifyApp } from './http-platform/fastify-platform';

/** Levels at or above the configured one. */
export function logLevels(level: AppConfig['LOG_LEVEL']): LogLevel[] {
  return LOG_LEVELS.slice(LOG_LEVELS.indexOf(level));
}

/**
 * Builds the HTTP application exactly as production runs it (security headers, HTTP
 * metrics, body limits, validation, problem+json, OpenAPI) on the platform HTTP_ADAPTER
 * names; used by main.ts and the e2e tests. On Fastify, call `ready()` on its instance
 * after `app.init()` before handing `getHttpServer()` to supertest (`listen` does it).
 */
export async function createApp(
  config: AppConfig & { DATABASE_URL: string },
  options: { shutdownHooks?: boolean } = {},
): Promise<INestApplication> {
  const create = config.HTTP_ADAPTER === 'fastify' ? createFastifyApp : createExpressApp;
  const app = await create(AppModule.forRoot(config), config, logLevels(config.LOG_LEVEL));
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
