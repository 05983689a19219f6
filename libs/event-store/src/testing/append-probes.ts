import { Client } from 'pg';
import { logLockKeys } from '../postgres/lock-keys';
import { TEST_DATABASE_URL } from './test-database';

/** A promise the test resolves itself: the way tests hold a transaction open at a chosen step. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/**
 * A connection outside the store's pool that looks at the store from the
 * side: who holds the global append lock, which backend is stuck in an append,
 * and the levers to cancel, terminate or block one.
 */
export class AppendProbe {
  private constructor(
    private readonly client: Client,
    private readonly schema: string,
  ) {}

  static async open(schema: string): Promise<AppendProbe> {
    const client = new Client({ connectionString: TEST_DATABASE_URL, application_name: 'append-probe' });
    await client.connect();
    return new AppendProbe(client, schema);
  }

  /** Backends holding the log's global append lock (session advisory lock). */
  async appendLockHolders(): Promise<number[]> {
    const [k1, k2] = logLockKeys(this.schema).append;
    const { rows } = await this.client.query<{ pid: number }>(
      `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 2
          AND classid = $1::int::oid AND objid = $2::int::oid`,
      [k1, k2],
    );
    return rows.map((r) => r.pid);
  }

  /** The backend of an append to this log that waits on a lock (a row lock, a sequence, the append lock), if any. */
  async waitingAppend(): Promise<number | undefined> {
    const { rows } = await this.client.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity
        WHERE wait_event_type = 'Lock' AND query LIKE $1 AND pid <> pg_backend_pid() LIMIT 1`,
      [`%"${this.schema}".append%`],
    );
    return rows[0]?.pid;
  }

  async backendAlive(pid: number): Promise<boolean> {
    const { rows } = await this.client.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid]);
    return rows.length > 0;
  }

  async cancel(pid: number): Promise<void> {
    await this.client.query('SELECT pg_cancel_backend($1)', [pid]);
  }

  async terminate(pid: number): Promise<void> {
    await this.client.query('SELECT pg_terminate_backend($1)', [pid]);
  }

  /**
   * Blocks every position draw of the log until `release()`: ALTER SEQUENCE
   * holds a lock that `nextval` waits for, so an append stops *inside* its
   * critical section, holding the global lock.
   */
  async blockPositionDraws(): Promise<{ release: () => Promise<void> }> {
    const blocker = new Client({ connectionString: TEST_DATABASE_URL, application_name: 'append-probe-blocker' });
    await blocker.connect();
    await blocker.query('BEGIN');
    await blocker.query(`ALTER SEQUENCE "${this.schema}".events_position_seq CACHE 1`);
    return {
      release: async () => {
        await blocker.query('ROLLBACK');
        await blocker.end();
      },
    };
  }

  async close(): Promise<void> {
    await this.client.end();
  }
}

/** Resolves with `work`'s result, or rejects after `ms`: a stuck writer fails the test instead of hanging it. */
export async function within<T>(ms: number, what: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}
