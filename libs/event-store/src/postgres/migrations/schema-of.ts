import type { QueryRunner } from 'typeorm';

/** The quoted schema the store was configured with; migrations read it from the connection options. */
export function schemaOf(q: QueryRunner): string {
  const schema = (q.connection.options as { schema?: string }).schema ?? 'public';
  return quoteIdent(schema);
}

/** Quotes a PostgreSQL identifier. Schema names come from configuration, never from requests. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
