import type { INestApplication } from '@nestjs/common';
import { createApp } from '../src/bootstrap';
import { loadConfig } from '../src/config/app-config';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '../../../libs/event-store/src/testing/test-database';

export const TEST_ADMIN_TOKEN = 'e2e-admin-token-0123456789';
/** The master key of personal data in tests (the global set-up puts it in PII_MASTER_KEY for spawned CLIs too). */
export const TEST_PII_MASTER_KEY = process.env.PII_MASTER_KEY ?? '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef';

export interface TestApp {
  app: INestApplication;
  server: ReturnType<INestApplication['getHttpServer']>;
  schema: string;
  close(): Promise<void>;
}

/** Boots the whole app as production does, on the real PostgreSQL, in a schema of its own. */
export async function startTestApp(env: Record<string, string> = {}): Promise<TestApp> {
  const schema = env.EVENT_STORE_SCHEMA ?? uniqueSchema('e2e');
  const config = loadConfig({
    ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    LOG_LEVEL: 'error',
    PII_MASTER_KEY: TEST_PII_MASTER_KEY,
    ...env,
    EVENT_STORE_SCHEMA: schema,
  });
  const app = await createApp({ ...config, DATABASE_URL: config.DATABASE_URL ?? TEST_DATABASE_URL });
  await app.init();
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
