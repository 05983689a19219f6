import { ERASED_MARKERS, EventReadError, type EventStore, type StoredEvent } from '@app/event-store';
import { UserRegistered } from './events';
import { foldEmail } from './email-fold';
import { EmailReservations, type EmailDuplicate, type Registration } from './email-reservations';
import { isUserStream, userIdOf } from './user-stream';

export type { EmailDuplicate } from './email-reservations';

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
  maxListed?: number;
  batchSize?: number;
}

/**
 * Checks the log's registrations, up to the head readable when it starts, against the
 * email reservations: every registration should hold its email; those that do not are
 * duplicates, listed rather than merged. Reads `UserRegistered` events decrypted and upcast,
 * batch by batch: memory stays constant; unreadable events are skipped (`verify` lists
 * those), and so are erased persons (their email reads as the marker and holds nothing).
 */
export async function auditEmails(
  store: EventStore,
  reservations: EmailReservations,
  options: EmailAuditOptions = {},
): Promise<EmailAuditReport> {
  const report: EmailAuditReport = { checked: 0, duplicates: [], duplicateCount: 0 };
  const head = await store.headPosition();
  const batchSize = options.batchSize ?? 2000;
  const maxListed = options.maxListed ?? 1000;
  let from = (options.afterPosition ?? 0) + 1;
  while (from <= head) {
    const stored = await store.readBatch(from, head, batchSize, undefined, ['UserRegistered']);
    if (stored.length === 0) break;
    from = stored[stored.length - 1].position + 1;
    const registrations = (await store.reveal(stored)).flatMap((e) => registrationOf(store, e));
    const holders = await reservations.holders(registrations.map((r) => r.email));
    for (const r of registrations) {
      report.checked++;
      const heldBy = holders.get(foldEmail(r.email)) ?? null;
      if (heldBy === r.userId) continue;
      report.duplicateCount++;
      if (report.duplicates.length < maxListed) report.duplicates.push({ ...r, email: foldEmail(r.email), heldBy });
    }
    if (stored.length < batchSize) break;
  }
  return report;
}

/**
 * The registration a revealed event (`store.reveal`) is, if it is a readable `UserRegistered`
 * of a user stream whose person is not erased (else none).
 */
export function registrationOf(store: EventStore, revealed: StoredEvent | EventReadError): Registration[] {
  try {
    const event = store.upcastRevealed(revealed);
    // A registration outside a user stream belongs to no user and holds no email.
    if (!(event.data instanceof UserRegistered) || !isUserStream(event.streamId)) return [];
    if (event.data.email === ERASED_MARKERS.email) return []; // erased: the email was released
    return [{ email: event.data.email, userId: userIdOf(event.streamId), position: event.position }];
  } catch (error) {
    if (error instanceof EventReadError) return [];
    throw error;
  }
}
