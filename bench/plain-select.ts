import { Client } from 'pg';

/**
 * Baseline for read-side benchmarks: stream every row of the log with a plain
 * keyset-paginated SELECT (no upcasting, no validation). Returns rows read.
 */
export async function plainSelectAll(url: string, schema: string, batch: number): Promise<number> {
  const c = new Client({ connectionString: url });
  await c.connect();
  let from = 0;
  let n = 0;
  try {
    for (;;) {
      const { rows } = await c.query<{ position: string }>(
        `SELECT position, event_id, stream_id, stream_version, type, schema_version, data, metadata, recorded_at
           FROM "${schema}".events WHERE position > $1 ORDER BY position LIMIT $2`,
        [from, batch],
      );
      n += rows.length;
      if (rows.length < batch) return n;
      from = Number(rows[rows.length - 1].position);
    }
  } finally {
    await c.end();
  }
}
