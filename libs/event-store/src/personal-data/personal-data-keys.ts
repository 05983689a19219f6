import type { Queryable } from '../postgres/queryable';

/** A subject's key as stored: wrapped by the master key, or gone (`erased`: a tombstone exists). */
export interface StoredKey {
  subject: string;
  wrapped: Buffer | null;
  erased: boolean;
}

/** The keys of `$1` (absent ones too), with the erasure generation: all from one snapshot. */
const LOAD_KEYS = (s: string) => `
  SELECT (SELECT coalesce(max(seq), 0) FROM ${s}.personal_data_erasures)::text AS generation,
         n.subject, k.wrapped_key, e.subject IS NOT NULL AS erased
    FROM (SELECT 1) AS one
    LEFT JOIN unnest($1::text[]) AS n(subject) ON true
    LEFT JOIN ${s}.personal_data_keys k ON k.subject = n.subject
    LEFT JOIN ${s}.personal_data_erasures e ON e.subject = n.subject`;

/**
 * Stores the offered keys of subjects that have none and no tombstone, and answers every
 * subject's key. A key another transaction is inserting at the same moment comes back null
 * (not visible to this statement's snapshot): the caller loads it again.
 */
const CREATE_KEYS = (s: string) => `
  WITH offered AS (SELECT * FROM unnest($1::text[], $2::bytea[]) AS o(subject, wrapped_key)),
  created AS (
    INSERT INTO ${s}.personal_data_keys (subject, wrapped_key)
    SELECT o.subject, o.wrapped_key FROM offered o
     WHERE NOT EXISTS (SELECT 1 FROM ${s}.personal_data_erasures e WHERE e.subject = o.subject)
    ON CONFLICT (subject) DO NOTHING RETURNING subject, wrapped_key)
  SELECT (SELECT coalesce(max(seq), 0) FROM ${s}.personal_data_erasures)::text AS generation,
         o.subject, coalesce(c.wrapped_key, k.wrapped_key) AS wrapped_key, e.subject IS NOT NULL AS erased
    FROM offered o
    LEFT JOIN created c ON c.subject = o.subject
    LEFT JOIN ${s}.personal_data_keys k ON k.subject = o.subject
    LEFT JOIN ${s}.personal_data_erasures e ON e.subject = o.subject`;

/** Deletes the key and leaves the tombstone, in the caller's transaction. */
const ERASE = (s: string) => `
  WITH gone AS (DELETE FROM ${s}.personal_data_keys WHERE subject = $1)
  INSERT INTO ${s}.personal_data_erasures (subject) VALUES ($1) ON CONFLICT (subject) DO NOTHING`;

const ALL_KEYS = (s: string) => `SELECT subject, wrapped_key FROM ${s}.personal_data_keys ORDER BY subject`;
const ALL_ERASURES = (s: string) =>
  `SELECT subject, to_char(erased_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS erased_at
     FROM ${s}.personal_data_erasures ORDER BY seq`;

/** Imported tombstones: each deletes a key the target may hold. */
const IMPORT_ERASURES = (s: string) => `
  WITH gone AS (DELETE FROM ${s}.personal_data_keys WHERE subject = ANY($1::text[]))
  INSERT INTO ${s}.personal_data_erasures (subject, erased_at)
  SELECT * FROM unnest($1::text[], $2::timestamptz[]) ON CONFLICT (subject) DO NOTHING`;

/** Imported keys: never for a tombstoned subject, never over a key the target has. */
const IMPORT_KEYS = (s: string) => `
  INSERT INTO ${s}.personal_data_keys (subject, wrapped_key)
  SELECT n.subject, n.wrapped_key FROM unnest($1::text[], $2::bytea[]) AS n(subject, wrapped_key)
   WHERE NOT EXISTS (SELECT 1 FROM ${s}.personal_data_erasures e WHERE e.subject = n.subject)
  ON CONFLICT (subject) DO NOTHING`;

type KeyRow = { generation?: string; subject: string | null; wrapped_key: Buffer | null; erased: boolean | null };

const toKeys = (rows: KeyRow[]): StoredKey[] =>
  rows.filter((r) => r.subject !== null).map((r) => ({ subject: r.subject!, wrapped: r.wrapped_key, erased: r.erased === true }));

/**
 * Every statement on the personal-data tables: `personal_data_keys` (one wrapped data key
 * per subject) and `personal_data_erasures` (a tombstone per erased subject, with a
 * sequence number whose maximum is the erasure generation every key cache checks).
 */
export class PersonalDataKeys {
  constructor(private readonly schema: string) {}

  /** The keys of `subjects` and the current erasure generation. */
  async load(db: Queryable, subjects: string[]): Promise<{ generation: string; keys: StoredKey[] }> {
    const rows = await db.query<KeyRow>(LOAD_KEYS(this.schema), [subjects]);
    return { generation: rows[0]?.generation ?? '0', keys: toKeys(rows) };
  }

  /** Stores `offered` keys where a subject has none (and no tombstone); answers every subject's key and the generation. */
  async create(db: Queryable, offered: Array<{ subject: string; wrapped: Buffer }>): Promise<{ generation: string; keys: StoredKey[] }> {
    const rows = await db.query<KeyRow>(CREATE_KEYS(this.schema), [offered.map((o) => o.subject), offered.map((o) => o.wrapped)]);
    return { generation: rows[0]?.generation ?? '0', keys: toKeys(rows) };
  }

  /** Deletes `subject`'s key and leaves its tombstone, in the transaction of `q`. */
  async erase(q: Queryable, subject: string): Promise<void> {
    await q.query(ERASE(this.schema), [subject]);
  }

  /** Every wrapped key. */
  async allKeys(db: Queryable): Promise<Array<{ subject: string; wrapped: Buffer }>> {
    const rows = await db.query<{ subject: string; wrapped_key: Buffer }>(ALL_KEYS(this.schema));
    return rows.map((r) => ({ subject: r.subject, wrapped: r.wrapped_key }));
  }

  /** Every tombstone. */
  async allErasures(db: Queryable): Promise<Array<{ subject: string; erasedAt: string }>> {
    const rows = await db.query<{ subject: string; erased_at: string }>(ALL_ERASURES(this.schema));
    return rows.map((r) => ({ subject: r.subject, erasedAt: r.erased_at }));
  }

  /** Imports tombstones (deleting those subjects' keys) then keys (never for a tombstoned subject). */
  async importAll(
    q: Queryable,
    keys: Array<{ subject: string; wrapped: Buffer }>,
    erasures: Array<{ subject: string; erasedAt: string }>,
  ): Promise<void> {
    if (erasures.length) await q.query(IMPORT_ERASURES(this.schema), [erasures.map((e) => e.subject), erasures.map((e) => e.erasedAt)]);
    if (keys.length) await q.query(IMPORT_KEYS(this.schema), [keys.map((k) => k.subject), keys.map((k) => k.wrapped)]);
  }
}
