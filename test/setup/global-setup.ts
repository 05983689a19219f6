import { missingRedisBinaries, redacted, testDatabase, testRedis, type TestService } from './test-services';

/** Services this run started, for the teardown: Jest runs both hooks in its parent process. */
export function startedServices(): TestService[] {
  const holder = globalThis as { __startedTestServices?: TestService[] };
  return (holder.__startedTestServices ??= []);
}

/**
 * Jest global set-up of the integration and e2e projects: resolves the run's
 * PostgreSQL and Redis and hands their URLs to every worker through the
 * environment (workers are forked after this hook).
 */
export default async function globalSetup(): Promise<void> {
  const missing = missingRedisBinaries();
  if (missing) {
    process.stderr.write(`\n${missing}\n`);
    process.exit(1);
  }
  const [database, redis] = await Promise.all([testDatabase(), testRedis()]);
  startedServices().push(...[database, redis].filter((service) => service.stop));
  process.env.TEST_DATABASE_URL = database.url;
  process.env.TEST_REDIS_URL = redis.url;
  // With DATABASE_URL set the service requires a master key: CLIs the tests spawn inherit this one.
  process.env.PII_MASTER_KEY ??= '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef';
  process.stderr.write(
    `\nTest services: PostgreSQL ${redacted(database.url)} (${database.origin}), Redis ${redis.url} (${redis.origin})\n`,
  );
}
