import { Inject, Injectable } from '@nestjs/common';
import { EVENT_STORE_HANDLE, type EventStoreHandle, type Queryable } from '@app/event-store';
import { EmailTakenError } from './users.errors';

/** A registration as the reservation table sees it. */
export interface Registration {
  email: string;
  userId: string;
  position: number;
}

const HOLDER_OF = (s: string) => `SELECT user_id FROM ${s}.email_reservations WHERE email = $1`;

// DO NOTHING waits for a concurrent uncommitted reservation of the same email, then yields no row if it committed.
const RESERVE = (s: string) => `INSERT INTO ${s}.email_reservations (email, user_id, position) VALUES ($1, $2, $3)
  ON CONFLICT (email) DO NOTHING RETURNING user_id`;

const RESERVE_MISSING = (s: string) => `INSERT INTO ${s}.email_reservations (email, user_id, position)
  SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[]) ON CONFLICT (email) DO NOTHING`;

const HOLDERS_OF = (s: string) => `SELECT email, user_id FROM ${s}.email_reservations WHERE email = ANY($1::text[])`;

/** Emails compare case-insensitively: stored and looked up lower-cased (as the User aggregate stores them). */
export const normalizeEmail = (email: string) => email.toLowerCase();

/**
 * Unique emails the event-sourcing way: a reservation row per email, inserted in the
 * same transaction as the registration's events, so of any number of concurrent
 * registrations of one email (on any instance) exactly one commits.
 */
@Injectable()
export class EmailReservations {
  constructor(@Inject(EVENT_STORE_HANDLE) private readonly handle: EventStoreHandle) {}

  private get schema(): string {
    return this.handle.store.schema;
  }

  /** The user holding an email, if any (committed state; a fast refusal before appending anything). */
  async holderOf(email: string): Promise<string | undefined> {
    const [row] = await this.handle.dataSource.query<{ user_id: string }[]>(HOLDER_OF(this.schema), [normalizeEmail(email)]);
    return row?.user_id;
  }

  /**
   * Reserves `email` for `userId` inside the registration's transaction (after its append).
   * @throws EmailTakenError when another registration holds it, which rolls the append back.
   */
  async reserve(q: Queryable, email: string, userId: string, position: number): Promise<void> {
    const rows = await q.query<unknown[]>(RESERVE(this.schema), [normalizeEmail(email), userId, position]);
    if (rows.length === 0) throw new EmailTakenError();
  }

  /** Reserves each email no one holds yet; the first registration of an email in the list wins. */
  async reserveMissing(registrations: Registration[]): Promise<void> {
    const first = new Map<string, Registration>();
    for (const r of registrations) if (!first.has(normalizeEmail(r.email))) first.set(normalizeEmail(r.email), r);
    if (first.size === 0) return;
    const rows = [...first.entries()];
    await this.handle.dataSource.query(RESERVE_MISSING(this.schema), [
      rows.map(([email]) => email),
      rows.map(([, r]) => r.userId),
      rows.map(([, r]) => r.position),
    ]);
  }

  /** Who holds each of these emails (lower-cased email -> user id). */
  async holders(emails: string[]): Promise<Map<string, string>> {
    if (emails.length === 0) return new Map();
    const rows: Array<{ email: string; user_id: string }> = await this.handle.dataSource.query(HOLDERS_OF(this.schema), [
      [...new Set(emails.map(normalizeEmail))],
    ]);
    return new Map(rows.map((r) => [r.email, r.user_id]));
  }
}
