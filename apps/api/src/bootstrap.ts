import type { INestApplication, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { AppModule } from './app.module';
import { RequestValidationPipe } from './common/validation';
import { AppConfig, LOG_LEVELS } from './config/app-config';

/** Levels at or above the configured one. */
export function logLevels(level: AppConfig['LOG_LEVEL']): LogLevel[] {
  return LOG_LEVELS.slice(LOG_LEVELS.indexOf(level)) as LogLevel[];
}

/**
 * Builds the HTTP application exactly as production runs it (body limits,
 * validation, problem+json, OpenAPI); used by main.ts and the e2e tests.
 */
export async function createApp(
  config: AppConfig & { DATABASE_URL: string },
  options: { shutdownHooks?: boolean } = {},
): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
    bodyParser: false,
    logger: logLevels(config.LOG_LEVEL),
  });
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
  SwaggerModule.setup('docs', app, () => SwaggerModule.createDocument(app, openApi));
  return app;
}
