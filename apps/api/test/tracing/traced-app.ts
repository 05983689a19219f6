/**
 * The app with tracing on, in a process of its own (Jest's module registry hides modules from
 * the auto-instrumentation): spans go as JSON lines to SPAN_FILE. Started by tracing.e2e-spec.ts
 * with fork(); says `{ url }` when listening, and on 'stop' closes the app and the SDK, then exits.
 */
import { sdk } from './start-file-tracing';
import 'reflect-metadata';
import { createApp } from '../../src/bootstrap';
import { loadConfig } from '../../src/config/app-config';

async function main(): Promise<void> {
  const config = loadConfig();
  const app = await createApp({ ...config, DATABASE_URL: config.DATABASE_URL as string }, { shutdownHooks: false });
  await app.listen(0, '127.0.0.1');
  process.send?.({ url: await app.getUrl() });
  process.on('message', (message) => {
    if (message !== 'stop') return;
    void app
      .close()
      .then(() => sdk.shutdown())
      .finally(() => process.exit(0));
  });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
