import { EventReadError, type EventStore, type StoredEvent } from '@app/event-store';
import { UserRegistered } from './events';
import { EmailReservations, normalizeEmail, type Registration } from './email-reservations';
import { isUserStream, userIdOf } from './user-stream';

/** A registration whose email is held by another user (or by no one: a reservation is missing). */
export interface EmailDuplicate {
  email: string;
  userId: string;
  position: number;
  /** The user holding the email; `null` when no reservation exists for it. */
  heldBy: string | null;
}

export interface EmailAuditReport {
  /** Registrations checked. */
  checked: number;
  /** Up to `maxListed` registrations that do not hold their email, in log order. */
  duplicates: EmailDuplicate[];
  /** All of them, listed or not. */
  duplicateCount: number;
}

export interface EmailAuditOptions {
  /** Check registrations after this position only (default 0: the whole log). */
  afterPosition?: number;
  /**
   * Check at least through this position (e.g. the last one an import wrote): waits, up to
   * `THROUGH_WAIT_MS`, until older transactions still in flight have settled and it is readable.
   */
  throughPosition?: number;
  /** First reserve every email no one holds, in log order (the earliest registration keeps it). Default false. */
  repair?: boolean;
  maxListed?: number;
  batchSize?: number;
}

/**
 * Checks the log's registrations against the email reservations: every registration
 * should hold its email; those that do not are duplicates, listed rather than merged.
 * With `repair`, it first rebuilds missing reservations (after an import, which appends
 * history without reserving). Reads `UserRegistered` events upcast, batch by batch:
 * memory stays constant; unreadable events are skipped (`verify` lists those).
 */
export async function auditEmails(
  store: EventStore,
  reservations: EmailReservations,
  options: EmailAuditOptions = {},
): Promise<EmailAuditReport> {
  const report: EmailAuditReport = { checked: 0, duplicates: [], duplicateCount: 0 };
  const head = await settledHead(store, options.throughPosition ?? 0);
  const batchSize = options.batchSize ?? 2000;
  const maxListed = options.maxListed ?? 1000;
  let from = (options.afterPosition ?? 0) + 1;
  while (from <= head) {
    const stored = await store.readBatch(from, head, batchSize, undefined, ['UserRegistered']);
    if (stored.length === 0) break;
    from = stored[stored.length - 1].position + 1;
    const registrations = stored.flatMap((e) => toRegistration(store, e));
    if (options.repair) await reservations.reserveMissing(registrations);
    const holders = await reservations.holders(registrations.map((r) => r.email));
    for (const r of registrations) {
      report.checked++;
      const heldBy = holders.get(normalizeEmail(r.email)) ?? null;
      if (heldBy === r.userId) continue;
      report.duplicateCount++;
      if (report.duplicates.length < maxListed) report.duplicates.push({ ...r, email: normalizeEmail(r.email), heldBy });
    }
    if (stored.length < batchSize) break;
  }
  return report;
}

/** Longest wait for `throughPosition` to become readable. */
export const THROUGH_WAIT_MS = 10_000;

/** The readable head, once it reaches `through` (or after THROUGH_WAIT_MS: then the audit covers what is readable). */
async function settledHead(store: EventStore, through: number): Promise<number> {
  const deadline = Date.now() + THROUGH_WAIT_MS;
  for (;;) {
    const head = await store.headPosition();
    if (head >= through || Date.now() > deadline) return head;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function toRegistration(store: EventStore, stored: StoredEvent): Registration[] {
  try {
    const event = store.registry.upcast(stored);
    // A registration outside a user stream belongs to no user and holds no email.
    if (!(event.data instanceof UserRegistered) || !isUserStream(stored.streamId)) return [];
    return [{ email: event.data.email, userId: userIdOf(stored.streamId), position: stored.position }];
  } catch (error) {
    if (error instanceof EventReadError) return [];
    throw error;
  }
}
