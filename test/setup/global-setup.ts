import { testNats } from './nats-service';
import { missingRedisBinaries, redacted, testDatabase, testRedis, type TestService } from './test-services';

/** Services this run started, for the teardown: Jest runs both hooks in its parent process. */
export function startedServices(): TestService[] {
  const holder = globalThis as { __startedTestServices?: TestService[] };
  return (holder.__startedTestServices ??= []);
}

/**
 * Jest global set-up of the integration and e2e projects: resolves the run's
 * PostgreSQL, Redis and NATS (with JetStream) and hands their URLs to every worker through the
 * environment (workers are forked after this hook).
 */
export default async function globalSetup(): Promise<void> {
  const missing = missingRedisBinaries();
  if (missing) {
    process.stderr.write(`\n${missing}\n`);
    process.exit(1);
  }
  const [database, redis, nats] = await Promise.all([testDatabase(), testRedis(), testNats()]);
  startedServices().push(...[database, redis, nats].filter((service) => service.stop));
  process.env.TEST_DATABASE_URL = database.url;
  process.env.TEST_REDIS_URL = redis.url;
  process.env.TEST_NATS_URL = nats.url;
  // With DATABASE_URL set the service requires a master key: CLIs the tests spawn inherit this one.
  process.env.PII_MASTER_KEY ??= '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef';
  process.stderr.write(
    `\nTest services: PostgreSQL ${redacted(database.url)} (${database.origin}), Redis ${redis.url} (${redis.origin}), ` +
      `NATS with JetStream ${nats.url} (${nats.origin})\n`,
  );
}
