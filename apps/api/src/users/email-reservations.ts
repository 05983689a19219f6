import { Inject, Injectable } from '@nestjs/common';
import { EVENT_STORE_HANDLE, type EventStoreHandle, type Queryable } from '@app/event-store';
import { foldEmail } from './email-fold';
import { EmailTakenError } from './users.errors';

/** A registration as the reservation table sees it. */
export interface Registration {
  email: string;
  userId: string;
  position: number;
}

/** A registration whose email is held by another user (or by no one: a reservation is missing). */
export interface EmailDuplicate {
  /** Folded (`foldEmail`). */
  email: string;
  userId: string;
  position: number;
  /** The user holding the email; `null` when no reservation exists for it. */
  heldBy: string | null;
}

const HOLDER_OF = (s: string) => `SELECT user_id FROM ${s}.email_reservations WHERE email = $1`;

// DO NOTHING waits for a concurrent uncommitted reservation of the same email, then yields no row if it committed.
const RESERVE = (s: string) => `INSERT INTO ${s}.email_reservations (email, user_id, position) VALUES ($1, $2, $3)
  ON CONFLICT (email) DO NOTHING RETURNING user_id`;

const RESERVE_ALL = (s: string) => `INSERT INTO ${s}.email_reservations (email, user_id, position)
  SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[]) ON CONFLICT (email) DO NOTHING`;

const RELEASE = (s: string) => `DELETE FROM ${s}.email_reservations WHERE user_id = $1`;

const HOLDERS_OF = (s: string) => `SELECT email, user_id FROM ${s}.email_reservations WHERE email = ANY($1::text[])`;

/**
 * Unique emails the event-sourcing way: a reservation row per email (folded by
 * `foldEmail`), inserted in the same transaction as the registration's events, so of
 * any number of concurrent registrations of one email (on any instance) exactly one commits.
 */
@Injectable()
export class EmailReservations {
  constructor(@Inject(EVENT_STORE_HANDLE) private readonly handle: EventStoreHandle) {}

  private get schema(): string {
    return this.handle.store.schema;
  }

  /** The user holding an email, if any (committed state; a fast refusal before appending anything). */
  async holderOf(email: string): Promise<string | undefined> {
    const [row] = await this.handle.db.query<{ user_id: string }>(HOLDER_OF(this.schema), [foldEmail(email)]);
    return row?.user_id;
  }

  /**
   * Reserves `email` for `userId` inside the registration's transaction (after its append).
   * @throws EmailTakenError when another registration holds it, which rolls the append back.
   */
  async reserve(q: Queryable, email: string, userId: string, position: number): Promise<void> {
    const rows = await q.query(RESERVE(this.schema), [foldEmail(email), userId, position]);
    if (rows.length === 0) throw new EmailTakenError();
  }

  /**
   * Reserves, in the transaction of `q`, the emails of registrations just written (in
   * position order): an email no one holds goes to its earliest registration here; the
   * registrations that do not hold their email afterwards are returned, never merged.
   */
  async reserveWritten(q: Queryable, registrations: Registration[]): Promise<EmailDuplicate[]> {
    const first = new Map<string, Registration>();
    for (const r of registrations) if (!first.has(foldEmail(r.email))) first.set(foldEmail(r.email), r);
    if (first.size === 0) return [];
    // In email order: two imports reserving overlapping emails take their row locks in one order, not crosswise.
    const rows = [...first.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    await q.query(RESERVE_ALL(this.schema), [rows.map(([e]) => e), rows.map(([, r]) => r.userId), rows.map(([, r]) => r.position)]);
    const holders = await this.holders(
      rows.map(([e]) => e),
      q,
    );
    return registrations.flatMap((r) => {
      const heldBy = holders.get(foldEmail(r.email)) ?? null;
      return heldBy === r.userId ? [] : [{ ...r, email: foldEmail(r.email), heldBy }];
    });
  }

  /** Releases every email `userId` holds, in the transaction of `q` (an erasure): anyone may register it again. */
  async release(q: Queryable, userId: string): Promise<void> {
    await q.query(RELEASE(this.schema), [userId]);
  }

  /** Who holds each of these emails (folded email -> user id), as `q` (default: committed state) sees it. */
  async holders(emails: string[], q: Queryable = this.handle.db): Promise<Map<string, string>> {
    if (emails.length === 0) return new Map();
    const rows = await q.query<{ email: string; user_id: string }>(HOLDERS_OF(this.schema), [[...new Set(emails.map(foldEmail))]]);
    return new Map(rows.map((r) => [r.email, r.user_id]));
  }
}
