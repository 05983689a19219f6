import { IsEmail, IsInt, IsString } from 'class-validator';
import { randomBytes, randomUUID } from 'node:crypto';
import { createEventStore, type EventStoreHandle } from '../create-event-store';
import { defineEvent } from '../registry/event-definition';
import { dropSchema, TEST_DATABASE_URL, uniqueSchema } from '../testing/test-database';
import { exportLines, importLines } from '../tools/export-import';
import { verifyStore } from '../tools/verify-store';
import { eventually } from '../../../../test/eventually';
import { exportPersonalDataKeys, importPersonalDataKeys, sealPlaintextLines } from './key-transfer';

class Signed {
  @IsString() name: string;
  @IsEmail() email: string;
  @IsInt() n: number;
}
const events = [defineEvent({ type: 'Signed', version: 1, eventClass: Signed, personalData: { name: 'text', email: 'email', n: false } })];
const signed = (name: string, n = 1, eventId?: string) => ({
  type: 'Signed',
  schemaVersion: 1,
  data: { name, email: `${name}@example.com`, n },
  eventId,
});

/** Global readers (verify, export) see a position once every older transaction of the cluster ended (ADR 0002). */
const settled = (es: EventStoreHandle, position: number) =>
  eventually(async () => (await es.store.headPosition()) >= position, 60_000, `head at ${position}`);

const all = async <T>(it: AsyncIterable<T>) => {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
};

describe('personal data on PostgreSQL (crypto-shredding)', () => {
  const schema = uniqueSchema('pii');
  const masterKey = randomBytes(32);
  let es: EventStoreHandle;
  let other: EventStoreHandle; // a second instance on the same log: its key cache must follow erasures too
  const open = (s = schema, key: Buffer | null = masterKey) =>
    createEventStore({ url: TEST_DATABASE_URL, schema: s, events, poolSize: 4, ...(key && { personalData: { masterKey: key } }) });
  beforeAll(async () => {
    es = await open();
    other = await open();
  });
  afterAll(async () => {
    await es?.close();
    await other?.close();
    await dropSchema(schema);
  });

  const rowsOf = (streamId: string) =>
    es.db.query<{ data: Record<string, unknown>; text: string }>(
      `SELECT data, data::text AS text FROM "${schema}".events WHERE stream_id = $1 ORDER BY stream_version`,
      [streamId],
    );

  it('stores personal fields as envelopes and reads them back decrypted', async () => {
    const s = `person-${randomUUID()}`;
    await es.store.appendToStream(s, [signed('ada', 1), signed('ada', 2)]);
    const rows = await rowsOf(s);
    expect(rows.map((r) => r.text).join()).not.toMatch(/ada/);
    expect(rows[0].data).toMatchObject({ n: 1, name: { $pii: 'aes-256-gcm' }, email: { $pii: 'aes-256-gcm' } });
    const read = await all(other.store.readStream<Signed>(s));
    expect(read.map((e) => ({ ...e.data }))).toEqual([
      { name: 'ada', email: 'ada@example.com', n: 1 },
      { name: 'ada', email: 'ada@example.com', n: 2 },
    ]);
  });

  it('a retried append with the same event ids stays idempotent', async () => {
    const s = `person-${randomUUID()}`;
    const batch = [signed('bob')];
    const first = await es.store.appendToStream(s, batch);
    expect(await es.store.appendToStream(s, batch)).toEqual({ ...first, written: false });
  });

  it('after an erasure, every instance reads the markers, and no new personal data is taken', async () => {
    const s = `person-${randomUUID()}`;
    const first = await es.store.appendToStream(s, [signed('cyd')]);
    expect((await all(other.store.readStream<Signed>(s)))[0].data.name).toBe('cyd'); // cached on the other instance
    await es.store.inTransaction((q) => es.personalData!.erase(q, s));
    for (const instance of [es, other]) {
      const [e] = await all(instance.store.readStream<Signed>(s));
      expect({ ...e.data }).toEqual({ name: '[erased]', email: 'erased@erased.invalid', n: 1 });
    }
    await expect(es.store.appendToStream(s, [signed('cyd')])).rejects.toMatchObject({ code: 'EVENT_STORE.PERSONAL_DATA_ERASED' });
    await settled(other, first.position);
    const report = await verifyStore(other.store);
    expect(report.failures.filter((f) => f.streamId === s)).toEqual([]);
  });

  it('a key missing without tombstone, or altered ciphertext, is a verify failure, never "erased"', async () => {
    const lost = `person-${randomUUID()}`;
    const altered = `person-${randomUUID()}`;
    await es.store.appendToStream(lost, [signed('dan')]);
    await es.store.appendToStream(altered, [signed('eve')]);
    await es.db.query(`DELETE FROM "${schema}".personal_data_keys WHERE subject = $1`, [lost]);
    // The log is append-only: simulate a tampered row by copying ciphertext into another event of the stream.
    const [row] = await rowsOf(altered);
    await settled(
      es,
      (await es.store.appendToStream(altered, [{ type: 'Signed', schemaVersion: 1, data: { ...row.data, n: 9 } }])).position,
    );
    const fresh = await open();
    try {
      const report = await verifyStore(fresh.store);
      const codes = report.failures.filter((f) => [lost, altered].includes(f.streamId)).map((f) => [f.streamId, f.code, f.reason]);
      expect(codes).toEqual([
        [lost, 'EVENT_STORE.PERSONAL_DATA_UNREADABLE', 'no data key and no erasure'],
        [altered, 'EVENT_STORE.PERSONAL_DATA_UNREADABLE', 'personal field "name" fails authentication'],
      ]);
    } finally {
      await fresh.close();
    }
  });

  it('re-encrypts plaintext history: export, transform, import into a new schema; keys travel apart, tombstones win', async () => {
    const legacySchema = uniqueSchema('pii_legacy');
    const targetSchema = uniqueSchema('pii_target');
    const legacy = await open(legacySchema, null); // no master key: plaintext, as before this change
    const target = await open(targetSchema);
    try {
      const s1 = `person-${randomUUID()}`;
      const s2 = `person-${randomUUID()}`;
      await legacy.store.appendToStream(s1, [signed('fay')]);
      await settled(legacy, (await legacy.store.appendToStream(s2, [signed('gus')])).position);
      expect((await verifyStore(legacy.store)).plaintextPersonalFields).toBe(4);
      // s2 was erased in the target before (say by an earlier import of its tombstone).
      await target.store.inTransaction((q) => target.personalData!.erase(q, s2));
      const lines = await all(exportLines(legacy.store));
      const report = await importLines(target.store, sealPlaintextLines(target.store, lines));
      expect(report.imported).toBe(2);
      await settled(target, report.position);
      const verify = await verifyStore(target.store);
      expect(verify).toMatchObject({ failureCount: 0, plaintextPersonalFields: 0 });
      const exported = (await all(exportLines(target.store))).join('');
      expect(exported).not.toMatch(/fay|gus/);
      expect({ ...(await all(target.store.readStream<Signed>(s1)))[0].data }).toMatchObject({ name: 'fay' });
      expect({ ...(await all(target.store.readStream<Signed>(s2)))[0].data }).toMatchObject({ name: '[erased]' });
      // The keys file: s1's wrapped key and s2's tombstone. Imported into a store where s1 is erased, no key comes back.
      const keyLines = await all(exportPersonalDataKeys(target.store));
      expect(keyLines.join('')).toContain(s1);
      await es.store.inTransaction((q) => es.personalData!.erase(q, s1));
      expect(await importPersonalDataKeys(es.store, keyLines)).toEqual({ keys: 1, erasures: 1 });
      const restored = await es.db.query(`SELECT subject FROM "${schema}".personal_data_keys WHERE subject = ANY($1::text[])`, [[s1, s2]]);
      expect(restored).toEqual([]);
      // A key wrapped by another master key is refused, and nothing of the file is stored.
      const otherMaster = await open(uniqueSchema('pii_keys'), randomBytes(32));
      try {
        await expect(importPersonalDataKeys(otherMaster.store, keyLines)).rejects.toMatchObject({ code: 'EVENT_STORE.IMPORT_INVALID' });
        expect(await otherMaster.db.query(`SELECT subject FROM "${otherMaster.schema}".personal_data_erasures`)).toEqual([]);
      } finally {
        await otherMaster.close();
        await dropSchema(otherMaster.schema);
      }
    } finally {
      await legacy.close();
      await target.close();
      await dropSchema(legacySchema);
      await dropSchema(targetSchema);
    }
  });
});
