import type { MigrationInterface, QueryRunner } from 'typeorm';
import { schemaOf } from './schema-of';

/**
 * The personal-data keys beside the log: one data key per subject (a person), wrapped by the
 * master key, and a tombstone per erased subject. Erasure deletes the key row (crypto-shredding:
 * the log keeps its ciphertext, which nothing can read any more) and leaves the tombstone, so
 * a missing key with a tombstone reads as "erased" and one without reads as a failure. The
 * tombstones' `seq` gives the erasure generation every instance's key cache checks.
 */
export class PersonalDataKeys1700000000012 implements MigrationInterface {
  name = 'PersonalDataKeys1700000000012';

  async up(q: QueryRunner): Promise<void> {
    const s = schemaOf(q);
    await q.query(`CREATE TABLE ${s}.personal_data_keys (
      subject     text PRIMARY KEY,
      wrapped_key bytea NOT NULL,
      created_at  timestamptz NOT NULL DEFAULT now()
    )`);
    await q.query(`CREATE TABLE ${s}.personal_data_erasures (
      subject   text PRIMARY KEY,
      seq       bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
      erased_at timestamptz NOT NULL DEFAULT now()
    )`);
  }

  async down(q: QueryRunner): Promise<void> {
    const s = schemaOf(q);
    await q.query(`DROP TABLE ${s}.personal_data_erasures`);
    await q.query(`DROP TABLE ${s}.personal_data_keys`);
  }
}
