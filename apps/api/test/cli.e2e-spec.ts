import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { createEventStore, type EventStoreHandle } from '@app/event-store';
import { eventually } from '../../../test/eventually';
import { userEvents } from '../src/users/events';
import { userProfilesProjection } from '../src/users/projections/user-profiles.projection';
import { pointsLedgerProjection } from '../src/leaderboard/points-ledger.projection';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '@app/event-store/testing';

const root = join(__dirname, '../../..');
const exec = promisify(execFile);

/** Runs a compiled CLI against a schema; never throws, returns exit code and output. */
async function cli(name: string, schema: string, args: string[] = []) {
  try {
    const { stdout, stderr } = await exec('node', [join(root, `dist/apps/api/src/cli/${name}.js`), ...args], {
      env: { ...process.env, DATABASE_URL: TEST_DATABASE_URL, EVENT_STORE_SCHEMA: schema },
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

beforeAll(() => {
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'ignore' });
}, 120_000);

describe('events:verify / events:export / events:import CLIs', () => {
  const schema = uniqueSchema('cli');
  const target = uniqueSchema('cli_target');
  const rejected = uniqueSchema('cli_bad');
  const keyed = uniqueSchema('cli_keyed');
  const dir = mkdtempSync(join(tmpdir(), 'es-cli-'));
  let es: EventStoreHandle;

  beforeAll(async () => {
    es = await createEventStore({ url: TEST_DATABASE_URL, schema, events: userEvents });
    const ok = (v: number) => ({ type: 'PointsAwarded', schemaVersion: v, data: v === 1 ? { amount: 3 } : { points: 3, reason: 'r' } });
    await es.store.appendToStream('user-a', [
      { type: 'UserRegistered', schemaVersion: 1, data: { fullName: 'Ada Lovelace', email: 'ada@example.com' } },
      ok(1),
      ok(2),
    ]);
  }, 120_000);
  afterAll(async () => {
    await es?.close();
    await dropSchema(schema);
    await dropSchema(target);
    await dropSchema(rejected);
    await dropSchema(keyed);
    rmSync(dir, { recursive: true, force: true });
  });

  it('verify exits 0 on a readable store and prints a summary', async () => {
    const r = await cli('events-verify', schema);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Checked 3 events/);
    expect(r.stdout).toMatch(/PointsAwarded: v1=1 v2=1/);
  });

  it('verify exits 1 and lists each unreadable event with its position', async () => {
    const bad = await es.store.appendToStream('user-b', [
      { eventId: randomUUID(), type: 'UserRegistered', schemaVersion: 7, data: {} },
      { type: 'AccountClosed', schemaVersion: 1, data: {} },
    ]);
    const r = await cli('events-verify', schema);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/2 cannot be read/);
    expect(r.stdout).toContain(
      `FAIL position=${bad.position - 1} stream=user-b v1 type=UserRegistered schema=v7 EVENT_STORE.MISSING_UPCASTER`,
    );
    expect(r.stdout).toContain(
      `FAIL position=${bad.position} stream=user-b v2 type=AccountClosed schema=v1 EVENT_STORE.UNKNOWN_EVENT_TYPE`,
    );
  });

  it('export then import into an empty store copies the log as stored (plaintext personal fields encrypted); a second import skips all', async () => {
    const file = join(dir, 'log.jsonl');
    expect((await cli('events-export', schema, [file])).code).toBe(0);
    const lines = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => `${l.type}@v${l.schemaVersion}`)).toEqual([
      'UserRegistered@v1',
      'PointsAwarded@v1',
      'PointsAwarded@v2',
      'UserRegistered@v7',
      'AccountClosed@v1',
    ]);
    const first = await cli('events-import', target, [file]);
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ imported: 5, skipped: 0, duplicateEmails: [] });
    expect(JSON.parse((await cli('events-import', target, [file])).stdout)).toEqual({
      imported: 0,
      skipped: 5,
      position: 0,
      leftOut: 0,
      movedOn: [],
      duplicateEmails: [],
      duplicateEmailCount: 0,
    });
    const copied = await cli('events-export', target, [join(dir, 'copy.jsonl')]);
    expect(copied.code).toBe(0);
    // The copy is the log as stored, except that the import encrypted its plaintext personal fields.
    const copy = readFileSync(join(dir, 'copy.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const withoutData = (l: Record<string, unknown>) => ({ ...l, data: undefined });
    expect(copy.map(withoutData)).toEqual(lines.map(withoutData));
    const sealed = expect.objectContaining({ $pii: 'aes-256-gcm' });
    expect(copy[0].data).toEqual({ fullName: sealed, email: sealed });
    expect(copy[2].data).toEqual({ points: 3, reason: sealed });
    // A v1 award has no personal field; a version or type the registry does not know is left as it is.
    for (const i of [1, 3, 4]) expect(copy[i].data).toEqual(lines[i].data);
    expect(JSON.stringify(copy)).not.toContain('ada@example.com');
  });

  it('export --keys then import --keys: the keys come first, so the encrypted registrations read and hold their emails', async () => {
    const [file, keys] = [join(dir, 'sealed.jsonl'), join(dir, 'keys.jsonl')];
    expect((await cli('events-export', target, [file, '--keys', keys])).code).toBe(0);
    const imported = await cli('events-import', keyed, ['--keys', keys, file]);
    expect(imported.code).toBe(0);
    expect(JSON.parse(imported.stdout)).toEqual({
      imported: 5,
      skipped: 0,
      position: 5,
      leftOut: 0,
      movedOn: [],
      personalDataKeys: { keys: 1, erasures: 0 },
      duplicateEmails: [],
      duplicateEmailCount: 0,
    });
    // Exit 1 for the two unreadable events copied along; the registration reads and holds its email.
    const verified = await cli('events-verify', keyed);
    expect(verified.stdout).toMatch(/Checked 5 events in \d+ ms; 2 cannot be read/);
    expect(verified.stdout).toContain('Checked 1 registrations; 0 do not hold their email.');
  });

  it('verify lists a registration whose email another user holds (case-insensitively), and import reports it too', async () => {
    // Appended straight to the log, as a legacy import or an old replica would: no reservation.
    const dup = await es.store.appendToStream('user-dup', [
      { type: 'UserRegistered', schemaVersion: 2, data: { firstName: 'Ada', lastName: 'Again', email: 'ADA@example.com' } },
    ]);
    // Verify checks the log up to the settled head: wait until no older transaction in the cluster holds it below ours.
    await eventually(async () => (await es.store.headPosition()) >= dup.position, 10_000, 'the log to settle through the duplicate');
    const r = await cli('events-verify', schema);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`DUPLICATE email=ada@example.com user=dup position=${dup.position} held-by=a`);
    const file = join(dir, 'dup.jsonl');
    writeFileSync(
      file,
      `${JSON.stringify({
        eventId: randomUUID(),
        streamId: 'user-dup2',
        streamVersion: 1,
        type: 'UserRegistered',
        schemaVersion: 1,
        data: { fullName: 'Ada Third', email: 'Ada@Example.com' },
      })}\n`,
    );
    const imported = await cli('events-import', schema, [file]);
    expect(JSON.parse(imported.stdout).duplicateEmails).toEqual([
      { email: 'ada@example.com', userId: 'dup2', position: expect.any(Number), heldBy: 'a' },
    ]);
  });

  it('import refuses a malformed file and names the line', async () => {
    const file = join(dir, 'bad.jsonl');
    writeFileSync(
      file,
      `${JSON.stringify({ eventId: randomUUID(), streamId: 's', streamVersion: 1, type: 'T', schemaVersion: 1, data: {} })}\nnot json\n`,
    );
    const r = await cli('events-import', rejected, [file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/line 2: not valid JSON/);
  });
});

describe('projections:rebuild CLI', () => {
  const schema = uniqueSchema('cli_proj');
  let es: EventStoreHandle;

  beforeAll(async () => {
    es = await createEventStore({
      url: TEST_DATABASE_URL,
      schema,
      events: userEvents,
      projections: [userProfilesProjection, pointsLedgerProjection],
      projectionPollMs: 50,
    });
    await es.store.appendToStream('user-a', [
      { type: 'UserRegistered', schemaVersion: 2, data: { firstName: 'Ada', lastName: 'L', email: 'ada@example.com' } },
    ]);
    await es.projections.start();
    for (const name of es.projections.names()) expect(await es.projections.waitFor(name, 1, 10_000)).toBe(true);
    await es.projections.stop(); // from here on only the CLI runs projections
  }, 60_000);
  afterAll(async () => {
    await es?.close();
    await dropSchema(schema);
  });

  it('rebuilds with a progress display and exits 0 once the rebuild is switched live', async () => {
    const r = await cli('projections-rebuild', schema, ['points_ledger']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Rebuilt points_ledger v1 to position 1 in/);
  });

  it('--abort ends a pending rebuild and exits 0; with none to abort it exits 1; a bad name or argument list exits 2', async () => {
    await es.projections.rebuild('user_profiles');
    const aborted = await cli('projections-rebuild', schema, ['--abort', 'user_profiles']);
    expect(aborted.code).toBe(0);
    expect(aborted.stdout).toMatch(/Aborted the v2 rebuild of user_profiles at position 0/);
    const status = (await es.projections.status()).find((p) => p.name === 'user_profiles')!;
    expect(status).toMatchObject({ rebuild: null, abortedRebuild: { version: 2, position: 0 } });

    const none = await cli('projections-rebuild', schema, ['--abort', 'user_profiles']);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/has no rebuild to abort/);
    for (const args of [['--abort'], ['--abort', 'nope'], ['user_profiles', 'extra']]) {
      const bad = await cli('projections-rebuild', schema, args);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/Usage: npm run projections:rebuild -- \[--abort\] <user_profiles\|points_ledger>/);
    }
  });
});
