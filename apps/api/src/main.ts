// First: tracing, when on, must be set up before http, pg and ioredis are loaded.
import './observability/tracing-preload';
import 'reflect-metadata';
import { resolve } from 'node:path';
import { Logger } from '@nestjs/common';
import { createApp, listenHost } from './bootstrap';
import { ConfigError, loadConfig } from './config/app-config';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './config/embedded-postgres';
import { startupLogger } from './observability/logging';
import { resolvePiiMasterKey } from './config/pii-master-key';

async function main(): Promise<void> {
  const logger = new Logger('Main');
  const config = loadConfig();
  Logger.overrideLogger(startupLogger(config));
  let embedded: EmbeddedDatabase | undefined;
  if (!config.DATABASE_URL) {
    const dataDir = resolve(config.EMBEDDED_PG_DIR);
    logger.log(`DATABASE_URL is not set: starting embedded PostgreSQL with data in ${dataDir}`);
    embedded = await startEmbeddedPostgres({ dataDir, port: config.EMBEDDED_PG_PORT });
  }
  // With an embedded database, the app must close before the database stops: one handler does both in order.
  const PII_MASTER_KEY = resolvePiiMasterKey(config);
  const app = await createApp(
    { ...config, DATABASE_URL: config.DATABASE_URL ?? embedded!.url, PII_MASTER_KEY },
    { shutdownHooks: !embedded },
  );
  if (embedded) {
    const { stop } = embedded;
    const shutdown = async (signal: NodeJS.Signals) => {
      logger.log(`${signal}: closing the app, then the embedded PostgreSQL`);
      await app.close().catch((e) => logger.error(`close failed: ${(e as Error).message}`));
      await stop().catch(() => undefined);
      process.exit(0);
    };
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void shutdown(signal));
  }
  if (!config.ADMIN_TOKEN) {
    logger.warn('ADMIN_TOKEN is not set: /admin endpoints answer 403. Set ADMIN_TOKEN (16+ chars) to enable them.');
  }
  const host = listenHost(config);
  await (host ? app.listen(config.PORT, host) : app.listen(config.PORT));
  logger.log(`Listening on http://localhost:${config.PORT} on ${config.HTTP_ADAPTER} (OpenAPI at /docs)`);
}

main().catch((error) => {
  if (error instanceof ConfigError) {
    console.error(error.message);
  } else {
    console.error('Start-up failed:', error);
  }
  process.exit(1);
});
