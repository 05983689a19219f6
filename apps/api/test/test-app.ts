import type { INestApplication } from '@nestjs/common';
import { createApp } from '../src/bootstrap';
import { loadConfig } from '../src/config/app-config';
import type { LogOutput } from '../src/observability/logging';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '@app/event-store/testing';

export const TEST_ADMIN_TOKEN = 'e2e-admin-token-0123456789';
/** The master key of personal data in tests (the global set-up puts it in PII_MASTER_KEY for spawned CLIs too). */
export const TEST_PII_MASTER_KEY = process.env.PII_MASTER_KEY ?? '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef';

export interface TestApp {
  app: INestApplication;
  server: ReturnType<INestApplication['getHttpServer']>;
  schema: string;
  close(): Promise<void>;
}

/**
 * Boots the whole app as production does, on the real PostgreSQL, in a schema of its own,
 * on the HTTP platform `env.HTTP_ADAPTER`, else the run's `HTTP_ADAPTER`, else the default.
 */
export async function startTestApp(env: Record<string, string> = {}, options: { log?: LogOutput } = {}): Promise<TestApp> {
  const schema = env.EVENT_STORE_SCHEMA ?? uniqueSchema('e2e');
  const platform = process.env.HTTP_ADAPTER ? { HTTP_ADAPTER: process.env.HTTP_ADAPTER } : {};
  const config = loadConfig({
    ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    LOG_LEVEL: 'error',
    PII_MASTER_KEY: TEST_PII_MASTER_KEY,
    ...platform,
    ...env,
    EVENT_STORE_SCHEMA: schema,
  });
  const app = await createApp({ ...config, DATABASE_URL: config.DATABASE_URL ?? TEST_DATABASE_URL }, { log: options.log });
  await app.init();
  // Fastify registers its routes and plugins on ready(); listen() calls it, supertest on the bare server does not.
  if (config.HTTP_ADAPTER === 'fastify') await (app.getHttpAdapter().getInstance() as { ready(): Promise<unknown> }).ready();
  return {
    app,
    server: app.getHttpServer(),
    schema,
    close: async () => {
      await app.close();
      if (!env.EVENT_STORE_SCHEMA) await dropSchema(schema);
    },
  };
}
