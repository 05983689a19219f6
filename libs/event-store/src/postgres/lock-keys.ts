/**
 * Advisory-lock keys of one log. Every key is derived from the schema name, so
 * two logs in one database never share a lock.
 */
export interface LogLockKeys {
  /** Session lock held only while positions are reserved (the global append lock, ADR 0002). */
  append: [number, number];
  /** Session lock held while migrations run, so replicas starting together do not race. */
  migrations: [number, number];
  /** First key of the per-stream transaction lock; the second key is `hashtext(stream id)`. */
  streamClass: number;
  /** First key of the projection locks. */
  projectionClass: number;
}

/** The lock keys of the log in `schema` (stable across versions: running instances must agree). */
export function logLockKeys(schema: string): LogLockKeys {
  let h = 0x811c9dc5;
  for (const ch of `event-store:${schema}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193);
  const base = h | 0;
  return { append: [base, 1], migrations: [base, 0], streamClass: base ^ 0x5eed, projectionClass: base ^ 0x9e0 };
}
