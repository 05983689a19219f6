import type { Pool, QueryResult as PgResult } from 'pg';
import type { DataSource, QueryRunner } from 'typeorm';
import type { Queryable } from './queryable';

/**
 * The one place where the connections the store uses inside (TypeORM's
 * DataSource and query runners, `pg` clients) become the store's `Queryable`.
 * Both answer a structured result (rows and row count), so nothing is guessed
 * from a result's shape.
 */

/** Parameters as the drivers type them; they only read them. */
type Parameters = unknown[] | undefined;

/**
 * A query runner as a Queryable: statements run on its connection, inside its
 * transaction when one is open. `query(…, true)` is TypeORM's structured
 * result: `records` (the rows) and `affected` (PostgreSQL's row count).
 */
export function runnerQueryable(runner: QueryRunner): Queryable {
  return {
    query: async <Row>(sql: string, parameters?: readonly unknown[]) =>
      ((await runner.query(sql, parameters as Parameters, true)).records ?? []) as Row[],
    execute: async (sql: string, parameters?: readonly unknown[]) =>
      (await runner.query(sql, parameters as Parameters, true)).affected ?? 0,
  };
}

/**
 * Autocommit statements on the DataSource's pool: each one checks a connection
 * out for its duration and returns it, exactly what `DataSource.query` does
 * (which has no structured result).
 */
export function autocommitQueryable(dataSource: DataSource): Queryable {
  const onPooledRunner = async <R>(work: (runner: Queryable) => Promise<R>): Promise<R> => {
    const runner = dataSource.createQueryRunner();
    try {
      return await work(runnerQueryable(runner));
    } finally {
      await runner.release();
    }
  };
  return {
    query: <Row>(sql: string, parameters?: readonly unknown[]) => onPooledRunner((q) => q.query<Row>(sql, parameters)),
    execute: (sql: string, parameters?: readonly unknown[]) => onPooledRunner((q) => q.execute(sql, parameters)),
  };
}

/**
 * A `pg` session (a pooled client, a client of its own) as a Queryable, given
 * how it runs a statement. pg answers one result per statement for a text of
 * several; like TypeORM's, that answer is `[]` / 0.
 */
export function pgQueryable(run: (sql: string, parameters: Parameters) => Promise<PgResult | PgResult[]>): Queryable {
  const single = async (sql: string, parameters?: readonly unknown[]): Promise<PgResult | undefined> => {
    const result = await run(sql, parameters as Parameters);
    return Array.isArray(result) ? undefined : result;
  };
  return {
    query: async <Row>(sql: string, parameters?: readonly unknown[]) => ((await single(sql, parameters))?.rows ?? []) as Row[],
    execute: async (sql: string, parameters?: readonly unknown[]) => (await single(sql, parameters))?.rowCount ?? 0,
  };
}

/** The `pg` pool under the store's TypeORM data source (initialised), for the paths that use `pg` directly. */
export function driverPool(dataSource: DataSource): Pool {
  return (dataSource.driver as unknown as { master: Pool }).master;
}
