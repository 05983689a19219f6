/**
 * A projection host in its own process, for the crash tests: it starts the
 * balances projection named PROJECTION_NAME on PROJECTION_SCHEMA and runs
 * until it is killed (the test SIGKILLs it mid-batch). Run with
 * `node -r @swc-node/register libs/event-store/src/testing/projection-child.ts`.
 */
import 'reflect-metadata';
import { createEventStore } from '../create-event-store';
import { balancesProjection, depositedEvent } from './balances-projection';
import { TEST_DATABASE_URL } from './test-database';

async function main(): Promise<void> {
  const schema = process.env.PROJECTION_SCHEMA;
  const name = process.env.PROJECTION_NAME;
  if (!schema || !name) throw new Error('PROJECTION_SCHEMA and PROJECTION_NAME are required');
  const handle = await createEventStore({
    url: TEST_DATABASE_URL,
    schema,
    events: [depositedEvent],
    poolSize: 3,
    projections: [balancesProjection({ name, runnerId: `child-${process.pid}` })],
    projectionBatchSize: Number(process.env.PROJECTION_BATCH_SIZE ?? 500),
    projectionPollMs: 50,
  });
  await handle.projections.start();
  // Runner timers are unref'd: keep the process alive until a signal ends it.
  const keepAlive = setInterval(() => undefined, 60_000);
  process.once('SIGTERM', () => {
    clearInterval(keepAlive);
    void handle.close().then(() => process.exit(0));
  });
  process.stdout.write('ready\n');
}

main().catch((error) => {
  process.stderr.write(`projection child failed: ${(error as Error).stack}\n`);
  process.exit(1);
});
