/**
 * Write-path safety figures, across INSTANCES app processes sharing one PostgreSQL:
 *   npm run bench:write-path   (INSTANCES=2 KEYS=5 DUPLICATES=200 EMAILS=5 REGISTRATIONS=50)
 * 1. Retries with an Idempotency-Key: for each of KEYS keys, DUPLICATES identical awards fired
 *    at once over the instances, then DUPLICATES/4 sequential retries; events appended are
 *    counted in the log. Baseline in the same run: DUPLICATES/4 sequential retries without a key.
 * 2. Concurrent registrations of one email: for each of EMAILS addresses, REGISTRATIONS at
 *    once over the instances (mixed case); users created are counted in the log.
 * Prints figures and writes <BENCH_OUT or docs/benchmarks>/write-path.json. Exits 1 if a promise broke.
 */
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { createApp } from '../apps/api/src/bootstrap';
import { loadConfig } from '../apps/api/src/config/app-config';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '@app/event-store/testing';
import { forkInstance, serveParent, stopInstance } from './app-instances';
import { benchOutDir, BENCH_PII_MASTER_KEY } from './bench-env';

const DATABASE_URL = process.env.DATABASE_URL ?? TEST_DATABASE_URL;
const INSTANCES = Number(process.env.INSTANCES ?? 2);
const KEYS = Number(process.env.KEYS ?? 5);
const DUPLICATES = Number(process.env.DUPLICATES ?? 200);
const EMAILS = Number(process.env.EMAILS ?? 5);
const REGISTRATIONS = Number(process.env.REGISTRATIONS ?? 50);
const progress = (s: string) => process.stderr.write(`  ${s}\n`);

/** Child process role: one app instance on the schema the parent gives. */
async function runInstance(): Promise<void> {
  const config = loadConfig({ ...process.env, PII_MASTER_KEY: BENCH_PII_MASTER_KEY, LOG_LEVEL: 'error' });
  const app = await createApp({ ...config, DATABASE_URL });
  await app.listen(0, '127.0.0.1');
  serveParent(await app.getUrl(), () => app.close());
}

const post = async (url: string, body: object, headers: Record<string, string> = {}) => {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return {
    status: res.status,
    body: (await res.json()) as { id?: string; code?: string },
    replayed: res.headers.get('idempotent-replayed') === 'true',
  };
};

const tally = (statuses: string[]) => statuses.reduce<Record<string, number>>((t, s) => ({ ...t, [s]: (t[s] ?? 0) + 1 }), {});

async function main(): Promise<void> {
  const schema = uniqueSchema('bench_write');
  const db = new Client({ connectionString: DATABASE_URL });
  await db.connect();
  const children: ChildProcess[] = [];
  try {
    progress(`starting ${INSTANCES} instances on schema ${schema}`);
    const urls: string[] = [];
    for (let i = 0; i < INSTANCES; i++) {
      const { child, url } = await forkInstance(__filename, {
        EVENT_STORE_SCHEMA: schema,
        CACHE_NAMESPACE: schema,
        RUN_PROJECTIONS: i === 0 ? 'true' : 'false',
      });
      children.push(child);
      urls.push(url);
    }
    const count = async (sql: string, params: unknown[]) =>
      Number((await db.query<{ count: string }>(sql.replaceAll('$schema', `"${schema}"`), params)).rows[0].count);
    const awardsOf = (userId: string) =>
      count(`SELECT count(*) FROM $schema.events WHERE stream_id = $1 AND type = 'PointsAwarded'`, [`user-${userId}`]);

    progress(`idempotency: ${KEYS} keys x (${DUPLICATES} concurrent + ${DUPLICATES / 4} sequential) duplicates`);
    const user = await post(`${urls[0]}/users`, { firstName: 'Bench', lastName: 'Mark', email: `bench.${randomUUID()}@example.com` });
    const statuses: string[] = [];
    for (let k = 0; k < KEYS; k++) {
      const key = randomUUID();
      const send = (i: number) =>
        post(`${urls[i % urls.length]}/users/${user.body.id}/points`, { points: 1, reason: `key ${k}` }, { 'Idempotency-Key': key });
      const burst = await Promise.all(Array.from({ length: DUPLICATES }, (_, i) => send(i)));
      const retries = [];
      for (let i = 0; i < DUPLICATES / 4; i++) retries.push(await send(i));
      statuses.push(
        ...[...burst, ...retries].map((r) =>
          r.replayed ? `${r.status} replayed` : r.body.code ? `${r.status} ${r.body.code}` : `${r.status} executed`,
        ),
      );
    }
    const sent = statuses.length;
    const appended = await awardsOf(user.body.id!);

    const baselineSent = DUPLICATES / 4;
    progress(`baseline: ${baselineSent} sequential retries without a key`);
    const plain = await post(`${urls[0]}/users`, { firstName: 'No', lastName: 'Key', email: `nokey.${randomUUID()}@example.com` });
    for (let i = 0; i < baselineSent; i++)
      await post(`${urls[i % urls.length]}/users/${plain.body.id}/points`, { points: 1, reason: 'no key' });
    const baselineAppended = await awardsOf(plain.body.id!);

    progress(`emails: ${EMAILS} addresses x ${REGISTRATIONS} concurrent registrations`);
    const emailStatuses: string[] = [];
    let usersCreated = 0;
    for (let e = 0; e < EMAILS; e++) {
      const address = `same.${randomUUID()}@example.com`;
      const variants = [address, address.toUpperCase(), `Same${address.slice(4)}`];
      // The stored email is encrypted (crypto-shredding): count the registrations the log gained in this round instead.
      const before = await count(`SELECT coalesce(max(position), 0) AS count FROM $schema.events`, []);
      const results = await Promise.all(
        Array.from({ length: REGISTRATIONS }, (_, i) =>
          post(`${urls[i % urls.length]}/users`, { firstName: `N${i}`, lastName: 'Same', email: variants[i % variants.length] }),
        ),
      );
      emailStatuses.push(...results.map((r) => `${r.status}${r.body.code ? ` ${r.body.code}` : ''}`));
      usersCreated += await count(`SELECT count(*) FROM $schema.events WHERE type = 'UserRegistered' AND position > $1`, [before]);
    }

    const report = {
      instances: INSTANCES,
      idempotency: {
        keys: KEYS,
        duplicatesSent: sent,
        eventsAppended: appended,
        statuses: tally(statuses),
        baselineWithoutKey: { sent: baselineSent, eventsAppended: baselineAppended },
      },
      emails: { emails: EMAILS, registrationsSent: EMAILS * REGISTRATIONS, usersCreated, statuses: tally(emailStatuses) },
    };
    console.log(
      `Idempotency-Key: ${sent} requests with ${KEYS} keys over ${INSTANCES} instances -> ${appended} events appended ` +
        `(${(sent / Math.max(1, appended)).toFixed(0)} requests per event)`,
    );
    console.log(`  statuses: ${JSON.stringify(report.idempotency.statuses)}`);
    console.log(`  baseline, the same retries without a key: ${baselineSent} requests -> ${baselineAppended} events appended`);
    console.log(
      `Unique emails: ${EMAILS * REGISTRATIONS} concurrent registrations of ${EMAILS} emails over ${INSTANCES} instances ` +
        `-> ${usersCreated} users created`,
    );
    console.log(`  statuses: ${JSON.stringify(report.emails.statuses)}`);
    writeFileSync(join(benchOutDir(), 'write-path.json'), JSON.stringify(report, null, 2) + '\n');
    if (appended !== KEYS || usersCreated !== EMAILS) process.exitCode = 1;
  } finally {
    await Promise.all(children.map(stopInstance));
    await db.end();
    await dropSchema(schema, DATABASE_URL);
  }
}

if (process.argv.includes('--instance')) void runInstance();
else
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
