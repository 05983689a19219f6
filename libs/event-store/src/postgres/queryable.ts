/**
 * Anything that runs SQL: a DataSource (autocommit), a QueryRunner (its open
 * transaction) or a projection's lock connection. Results follow TypeORM's
 * PostgreSQL driver: the rows, or `[rows, affectedCount]` for UPDATE and DELETE.
 * `T` names the shape the caller expects (nothing checks it at run time); left
 * out, the result is `unknown` and has to be narrowed before use.
 */
export interface Queryable {
  query<T = unknown>(sql: string, parameters?: unknown[]): Promise<T>;
}
