import { quoteIdent } from '../postgres/migrations/schema-of';
import type { TableNames } from './projection';

/** Which physical copy of a projection's tables: the live model, a rebuild's shadow, or the one a switch retires. */
export type TableGeneration = 'live' | 'rebuild' | 'retired';

const SUFFIX: Record<TableGeneration, string> = { live: '', rebuild: '__rebuild', retired: '__retired' };

/** `"schema"."table"`: the quoted, schema-qualified name of a table beside the log. */
export function qualifiedTable(quotedSchema: string, table: string): string {
  return `${quotedSchema}.${quoteIdent(table)}`;
}

/** Logical -> physical names of one generation of a projection's tables. */
export function tableNamesOf(quotedSchema: string, tables: readonly string[], generation: TableGeneration): TableNames {
  return Object.fromEntries(tables.map((t) => [t, qualifiedTable(quotedSchema, `${t}${SUFFIX[generation]}`)]));
}

/** The unqualified, quoted name of a physical table (what `ALTER TABLE ... RENAME TO` takes). */
export function bareName(qualified: string): string {
  return qualified.slice(qualified.indexOf('"."') + 2);
}
