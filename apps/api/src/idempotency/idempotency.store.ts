import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { EVENT_STORE_HANDLE, type EventStoreHandle, type Queryable } from '@app/event-store';
import { AppConfig } from '../config/app-config';

/** A response as stored for replay: status, the headers that matter, body. */
export interface StoredResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/** The right to execute one request with a key: fenced by `token` (a takeover issues a new one). */
export interface Claim {
  scope: string;
  key: string;
  token: string;
}

export type ClaimOutcome =
  { kind: 'claimed'; claim: Claim } | { kind: 'replay'; response: StoredResponse } | { kind: 'in-progress' } | { kind: 'key-reused' };

/** The claim was taken over (its lease ran out) before this request could record its outcome. */
export class IdempotencyClaimLostError extends Error {
  readonly code = 'IDEMPOTENCY.CLAIM_LOST';
}

/**
 * How long a claimed key stays `in_progress` without an outcome before another request
 * with the same key and fingerprint may take it over: the bound on how long a crashed
 * holder blocks its key. A holder still running after it cannot record its outcome
 * (the claim token fences it), so a takeover never makes a command run twice.
 */
export const IDEMPOTENCY_LEASE_MS = 30_000;

const CLAIM = (s: string) => `INSERT INTO ${s}.idempotency_keys (scope, key, fingerprint, claim, state, locked_until, expires_at)
  VALUES ($1, $2, $3, $4, 'in_progress', now() + $5::int * interval '1 millisecond', now() + $6::bigint * interval '1 millisecond')
  ON CONFLICT (scope, key) DO NOTHING RETURNING claim`;

const READ = (s: string) => `SELECT fingerprint, claim, state, response,
    expires_at <= now() AS expired, locked_until <= now() AS lease_expired
  FROM ${s}.idempotency_keys WHERE scope = $1 AND key = $2`;

// Compare-and-set on the previous claim token: of two requests taking over one row, one wins.
const TAKE_OVER = (s: string) => `UPDATE ${s}.idempotency_keys SET fingerprint = $3, claim = $4, state = 'in_progress', response = NULL,
    locked_until = now() + $6::int * interval '1 millisecond', expires_at = now() + $7::bigint * interval '1 millisecond',
    created_at = now()
  WHERE scope = $1 AND key = $2 AND claim = $5
    AND (expires_at <= now() OR (state = 'in_progress' AND locked_until <= now() AND fingerprint = $3))`;

const COMPLETE = (s: string) => `UPDATE ${s}.idempotency_keys SET state = 'completed', response = $4
  WHERE scope = $1 AND key = $2 AND claim = $3 AND state = 'in_progress'`;

const RELEASE = (s: string) => `DELETE FROM ${s}.idempotency_keys WHERE scope = $1 AND key = $2 AND claim = $3 AND state = 'in_progress'`;

const SWEEP = (s: string) => `DELETE FROM ${s}.idempotency_keys
  WHERE ctid = ANY (ARRAY(SELECT ctid FROM ${s}.idempotency_keys WHERE expires_at <= now() LIMIT $1))`;

interface KeyRow {
  fingerprint: string;
  claim: string;
  state: 'in_progress' | 'completed';
  response: StoredResponse | null;
  expired: boolean;
  lease_expired: boolean;
}

/**
 * Idempotency keys in PostgreSQL (the event store's schema), so every instance sees
 * them. A key is claimed in a short transaction of its own; its outcome is recorded in
 * the transaction of the command's events (`complete`), so a crash can never keep one
 * without the other. Times come from the database clock.
 */
@Injectable()
export class IdempotencyStore {
  constructor(
    @Inject(EVENT_STORE_HANDLE) private readonly handle: EventStoreHandle,
    @Inject(AppConfig) private readonly config: AppConfig,
  ) {}

  private get s(): string {
    return this.handle.store.schema;
  }

  /** Claims `key` in `scope` for a request with this fingerprint, or says why not. */
  async claim(scope: string, key: string, fingerprint: string): Promise<ClaimOutcome> {
    const ttl = this.config.IDEMPOTENCY_TTL_MS;
    // Each pass either decides or saw the row change under it (released, taken over): a few passes settle it.
    for (let pass = 0; pass < 5; pass++) {
      const token = randomUUID();
      const inserted = await this.handle.db.query(CLAIM(this.s), [scope, key, fingerprint, token, IDEMPOTENCY_LEASE_MS, ttl]);
      if (inserted.length) return { kind: 'claimed', claim: { scope, key, token } };
      const [row] = await this.handle.db.query<KeyRow>(READ(this.s), [scope, key]);
      if (!row) continue;
      const takeable = row.expired || (row.state === 'in_progress' && row.lease_expired && row.fingerprint === fingerprint);
      if (takeable) {
        const params = [scope, key, fingerprint, token, row.claim, IDEMPOTENCY_LEASE_MS, ttl];
        if ((await this.handle.db.execute(TAKE_OVER(this.s), params)) === 1) {
          return { kind: 'claimed', claim: { scope, key, token } };
        }
        continue;
      }
      if (row.fingerprint !== fingerprint) return { kind: 'key-reused' };
      if (row.state === 'completed' && row.response) return { kind: 'replay', response: row.response };
      return { kind: 'in-progress' };
    }
    return { kind: 'in-progress' };
  }

  /**
   * Records the outcome in the caller's transaction (the one holding the command's events).
   * @throws IdempotencyClaimLostError when the claim was taken over, which rolls the events back.
   */
  async complete(q: Queryable, claim: Claim, response: StoredResponse): Promise<void> {
    const completed = await q.execute(COMPLETE(this.s), [claim.scope, claim.key, claim.token, JSON.stringify(response)]);
    if (completed !== 1) throw new IdempotencyClaimLostError(`Idempotency key "${claim.key}" was taken over`);
  }

  /** Records an outcome that wrote no events (a 4xx) on its own; false if the claim was lost. */
  async completeAlone(claim: Claim, response: StoredResponse): Promise<boolean> {
    const completed = await this.handle.db.execute(COMPLETE(this.s), [claim.scope, claim.key, claim.token, JSON.stringify(response)]);
    return completed === 1;
  }

  /** Gives the key up (after a 5xx), so a retry executes again. Only while this claim holds it. */
  async release(claim: Claim): Promise<void> {
    await this.handle.db.execute(RELEASE(this.s), [claim.scope, claim.key, claim.token]);
  }

  /** Deletes up to `limit` expired keys; returns how many. */
  async sweep(limit = 5000): Promise<number> {
    return this.handle.db.execute(SWEEP(this.s), [limit]);
  }
}
