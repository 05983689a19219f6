import type { PoolClient } from 'pg';
import { ImportLineError } from '../../errors';
import { pgFields } from '../../postgres/pg-errors';
import { parseExportLine } from '../export-format';
import { LINE_RANGE, LINE_TEXT, PARSE_RANGE } from './import-sql';

/**
 * The set-based parse failed somewhere: find the first line that fails on its
 * own by halving the range (about log2(lines) parses of shrinking ranges, on
 * the error path only), and say why in the words of `parseExportLine`.
 */
export async function findFirstUnparsableLine(client: PoolClient, failure: unknown): Promise<ImportLineError> {
  const { first, last } = (await client.query(LINE_RANGE)).rows[0];
  let lo = Number(first);
  let hi = Number(last);
  let cause = failure;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    try {
      await client.query(PARSE_RANGE, [lo, mid]);
      lo = mid + 1;
    } catch (error) {
      cause = error;
      hi = mid;
    }
  }
  const [row] = (await client.query(LINE_TEXT, [lo])).rows;
  try {
    parseExportLine(row.text, lo);
  } catch (error) {
    if (error instanceof ImportLineError) return error;
  }
  // JavaScript accepts what PostgreSQL refuses (a \u0000 escape, a date out of range): say what PostgreSQL said.
  const { code, message } = pgFields(cause);
  return new ImportLineError(lo, /^2200[78]$/.test(code ?? '') ? `recordedAt must be a date (${message})` : `not valid JSON (${message})`);
}
