import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

/** The PostgreSQL that `npm test` finds there when TEST_DATABASE_URL is not given. */
export const DEFAULT_TEST_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test';

/**
 * The PostgreSQL the integration and e2e tests share (each test in a schema of
 * its own). The Jest set-up resolves it for the run (given, the default port, or
 * an embedded PostgreSQL it started) and passes it on as TEST_DATABASE_URL.
 */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? DEFAULT_TEST_DATABASE_URL;

/** A schema name unique to this test run, so parallel runs and files never collide. */
export function uniqueSchema(prefix = 'es_test'): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
}

/** Drops a test schema and everything in it. */
export async function dropSchema(schema: string, url = TEST_DATABASE_URL): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}
