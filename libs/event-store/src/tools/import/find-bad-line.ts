import type { PoolClient } from 'pg';
import { ImportLineError } from '../../errors';
import { pgFields } from '../../postgres/pg-errors';
import { parseExportLine } from '../export-format';
import { FIRST_BAD_IN_RANGE, LINE_RANGE, LINE_TEXT } from './import-sql';

type Probe = { kind: 'clean' } | { kind: 'rule'; line: number; problems: string } | { kind: 'unreadable'; error: unknown };

/**
 * The careful path, taken only when the fast path met a bad line: finds the
 * first line that breaks a rule or cannot be read at all, and says why in the
 * words of `parseExportLine`. A range that reads without error answers at
 * once; one that fails is halved (about log2(lines) shrinking scans).
 */
export async function findFirstBadLine(client: PoolClient): Promise<ImportLineError> {
  const { first, last } = (await client.query(LINE_RANGE)).rows[0];
  let lo = Number(first);
  let hi = Number(last);
  let current = await probe(client, lo, hi);
  for (;;) {
    if (current.kind === 'rule') return new ImportLineError(current.line, current.problems);
    if (current.kind === 'clean') return new ImportLineError(0, 'a line could not be read, but no single line fails on its own');
    if (lo === hi) return unreadable(client, lo, current.error);
    const mid = Math.floor((lo + hi) / 2);
    const left = await probe(client, lo, mid);
    if (left.kind === 'clean') {
      lo = mid + 1;
      current = await probe(client, lo, hi);
    } else {
      hi = mid;
      current = left;
    }
  }
}

async function probe(client: PoolClient, from: number, to: number): Promise<Probe> {
  try {
    const [row] = (await client.query(FIRST_BAD_IN_RANGE, [from, to])).rows;
    return row ? { kind: 'rule', line: Number(row.line), problems: row.problems } : { kind: 'clean' };
  } catch (error) {
    if (!/^22/.test(pgFields(error).code ?? '')) throw error;
    return { kind: 'unreadable', error };
  }
}

/** Why PostgreSQL could not read `line`: as `parseExportLine` puts it, else as PostgreSQL did (a \u0000 escape, a date out of range). */
async function unreadable(client: PoolClient, line: number, cause: unknown): Promise<ImportLineError> {
  const [row] = (await client.query(LINE_TEXT, [line])).rows;
  try {
    parseExportLine(row.text, line);
  } catch (error) {
    if (error instanceof ImportLineError) return error;
  }
  const { code, message } = pgFields(cause);
  return new ImportLineError(line, /^2200[78]$/.test(code ?? '') ? `recordedAt must be a date (${message})` : `not valid JSON (${message})`);
}
