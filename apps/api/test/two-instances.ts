import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { TEST_DATABASE_URL } from '@app/event-store/testing';
import { startTestApp, TestApp } from './test-app';

export interface TwoInstances {
  a: TestApp;
  b: TestApp;
  /** A plain client on the test database, to count what the instances wrote. */
  db: Client;
  close(): Promise<void>;
}

/** Two app instances on one schema and one cache namespace (replicas of one service), and a database client. */
export async function startTwoInstances(env: Record<string, string> = {}): Promise<TwoInstances> {
  const shared = { CACHE_NAMESPACE: `two${randomBytes(4).toString('hex')}`, ...env };
  const a = await startTestApp(shared);
  const b = await startTestApp({ ...shared, EVENT_STORE_SCHEMA: a.schema });
  const db = new Client({ connectionString: TEST_DATABASE_URL });
  await db.connect();
  return {
    a,
    b,
    db,
    close: async () => {
      await db.end();
      await b.close();
      await a.close(); // drops the schema
    },
  };
}
