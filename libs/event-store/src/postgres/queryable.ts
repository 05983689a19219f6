/**
 * Anything that runs SQL: a DataSource (autocommit), a QueryRunner (its open
 * transaction) or a projection's lock connection. Results follow TypeORM's
 * PostgreSQL driver: the rows, or `[rows, affectedCount]` for UPDATE and DELETE.
 */
export interface Queryable {
  query(sql: string, parameters?: unknown[]): Promise<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
}
