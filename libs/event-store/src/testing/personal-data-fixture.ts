import { randomBytes } from 'node:crypto';
import { wrapKey } from '../personal-data/field-cipher';
import { PersonalData } from '../personal-data/personal-data';
import type { Queryable } from '../postgres/queryable';
import type { EventRegistry } from '../registry/event-registry';

/**
 * A `PersonalData` over an in-memory key table of one subject, for unit tests of stored
 * shapes (golden samples): with `key` the subject's data key is there, with `erased` it is
 * gone and a tombstone says so, and with neither the key is missing without a tombstone.
 */
export function personalDataOf(registry: EventRegistry, subject: string, state: { key: Buffer } | { erased: true } | { missing: true }) {
  const master = randomBytes(32);
  const row =
    'key' in state
      ? { subject, wrapped_key: wrapKey(master, state.key, subject), erased: false }
      : { subject, wrapped_key: null, erased: 'erased' in state };
  const table: Queryable = {
    query: <Row>(_sql: string, params?: readonly unknown[]) => {
      const subjects = (params?.[0] as string[] | undefined) ?? [];
      const rows = subjects.includes(subject) ? [{ generation: '1', ...row }] : [{ generation: '1', subject: null }];
      return Promise.resolve(rows as Row[]);
    },
    execute: () => Promise.resolve(0),
  };
  return new PersonalData(table, 'golden', master, registry);
}
