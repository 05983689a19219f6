import { createEventStore } from '@app/event-store';
import { userEvents } from '../apps/api/src/users/events';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '../libs/event-store/src/testing/test-database';
import { plainSelectAll } from './plain-select';
import { seedMixedLog, verifyCount, waitForHead } from './read-throughput';
async function main() {
  const schema = uniqueSchema('zz'); const es = await createEventStore({ url: TEST_DATABASE_URL, schema, events: userEvents });
  await seedMixedLog(es, 0, 100000); await es.dataSource.query(`VACUUM ANALYZE "${schema}".events`); await waitForHead(es, 100000);
  const cpu = async (name: string, f: () => Promise<unknown>) => { const c = process.cpuUsage(); const t = Date.now(); await f(); const d = process.cpuUsage(c); console.log(name, 'wall', Date.now() - t, 'ms cpu', Math.round((d.user + d.system) / 1000), 'ms'); };
  for (let r = 0; r < 3; r++) {
    await cpu('select', () => plainSelectAll(TEST_DATABASE_URL, schema, 2000));
    await cpu('batches', async () => { for await (const b of es.store.readAllBatches({ batchSize: 2000 })) void b; });
    await cpu('verify', () => verifyCount(es.store));
  }
  await es.close(); await dropSchema(schema);
}
main();
