/**
 * The store's own query interface: what projections, transaction hooks, import
 * hooks and application code run SQL through, whatever connection is behind it
 * (the pool in autocommit, a store transaction, a projection's lock connection,
 * an import chunk's session). Kept this small on purpose, so an application
 * never depends on the ORM or driver the store uses inside.
 *
 * - `query` answers the rows: of a SELECT, or of a statement's `RETURNING`;
 *   `[]` for a statement without rows. `Row` names the shape the caller
 *   expects (nothing checks it at run time; bigints arrive as strings).
 * - `execute` answers how many rows an INSERT, UPDATE or DELETE touched (0 for
 *   other statements).
 * - A text of several statements (no parameters) runs them all; its answer is
 *   `[]` / 0, whichever connection runs it.
 */
export interface Queryable {
  query<Row = unknown>(sql: string, parameters?: readonly unknown[]): Promise<Row[]>;
  execute(sql: string, parameters?: readonly unknown[]): Promise<number>;
}

/**
 * The store's database: statements in autocommit (each on a pooled connection
 * for its duration, as a `DataSource.query` did) and transactions.
 */
export interface Database extends Queryable {
  /**
   * Runs `work` in a READ COMMITTED transaction on one pooled connection:
   * COMMIT when it resolves, ROLLBACK when it throws. It is the store's own
   * transaction (`EventStore.inTransaction`), so `store.appendWithin(q, …)`
   * may append in it. Keep it short: an open transaction holds back global
   * readers (ADR 0002).
   */
  transaction<T>(work: (q: Queryable) => Promise<T>): Promise<T>;
}
