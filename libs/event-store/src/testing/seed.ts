import type { Queryable } from '../postgres/queryable';

/**
 * Bulk-inserts `count` synthetic events spread over `streams` streams with
 * one INSERT ... SELECT (tests and benchmarks need 100k+ rows quickly; the
 * append path is measured separately). Stream versions stay gap-free.
 */
export async function seedEvents(
  db: Queryable,
  schema: string,
  options: { count: number; streams: number; type: string; schemaVersion: number; data: (i: string) => string },
): Promise<void> {
  await db.execute(
    `INSERT INTO "${schema}".events (event_id, stream_id, stream_version, type, schema_version, data, metadata)
     SELECT gen_random_uuid(), 'seed-' || (i % $2), (i / $2) + 1, $3, $4, ${options.data('i')},
            jsonb_build_object('occurredAt', to_char(now(), 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))
       FROM generate_series(0, $1 - 1) AS i`,
    [options.count, options.streams, options.type, options.schemaVersion],
  );
}
