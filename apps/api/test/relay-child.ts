/**
 * An outbox relay in its own process, for the crash test: it relays the app's events of
 * RELAY_SCHEMA to the stream RELAY_STREAM (namespace RELAY_NAMESPACE) on TEST_NATS_URL, and
 * SIGKILLs itself right after the stream acknowledged its RELAY_CRASH_AFTER-th publish (mid-batch,
 * before the checkpoint). Run with `node -r @swc-node/register apps/api/test/relay-child.ts`.
 */
import 'reflect-metadata';
import { TEST_DATABASE_URL } from '@app/event-store/testing';
import { openRelay } from './relay-fixtures';
import { TEST_NATS_URL } from './test-nats';

async function main(): Promise<void> {
  const { RELAY_SCHEMA: schema, RELAY_STREAM: stream, RELAY_NAMESPACE: namespace } = process.env;
  if (!schema || !stream || !namespace) throw new Error('RELAY_SCHEMA, RELAY_STREAM and RELAY_NAMESPACE are required');
  const crashAfter = Number(process.env.RELAY_CRASH_AFTER ?? 0);
  let acked = 0;
  const harness = await openRelay(
    { dbUrl: TEST_DATABASE_URL, natsUrl: TEST_NATS_URL, schema, stream, namespace },
    {
      batchSize: Number(process.env.RELAY_BATCH_SIZE ?? 100),
      aroundPublish: async (_event, publish) => {
        await publish();
        if (crashAfter && ++acked === crashAfter) process.kill(process.pid, 'SIGKILL');
      },
    },
  );
  await harness.relay.start();
  const keepAlive = setInterval(() => undefined, 60_000);
  process.once('SIGTERM', () => {
    clearInterval(keepAlive);
    void harness.close().then(() => process.exit(0));
  });
  process.stdout.write('ready\n');
}

main().catch((error) => {
  process.stderr.write(`relay child failed: ${(error as Error).stack}\n`);
  process.exit(1);
});
