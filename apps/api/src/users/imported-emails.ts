import type { EventStore } from '@app/event-store';
import type { ImportChunkHook } from '@app/event-store/tools';
import { registrationOf } from './email-audit';
import type { EmailDuplicate, EmailReservations } from './email-reservations';
import { UserEventType } from './events/event-types';

/**
 * The emails of one import's registrations, reserved in the transaction of the chunk
 * that writes them (the import's `inChunk` hook): an imported registration never exists
 * without its reservation, whatever else runs or fails, and nothing waits for the
 * imported events to become readable. An email no one holds goes to its earliest
 * registration; each imported registration whose email another user holds is kept
 * (nothing is merged) and listed here.
 */
export class ImportedEmails {
  /** Up to `maxListed` registrations of this import that do not hold their email, in log order. */
  readonly duplicates: EmailDuplicate[] = [];
  /** All of them, listed or not (of the chunks that committed). */
  duplicateCount = 0;

  constructor(
    private readonly store: EventStore,
    private readonly reservations: EmailReservations,
    private readonly maxListed = 1000,
  ) {}

  /** The hook to pass as `importLines(…, { inChunk })`. */
  readonly hook: ImportChunkHook = {
    types: [UserEventType.Registered],
    run: async (q, written) => {
      // Decrypted with the keys this store holds (import a keys file before its events); erased persons hold no email.
      const registrations = (await this.store.reveal(written)).flatMap((e) => registrationOf(this.store, e));
      const duplicates = await this.reservations.reserveWritten(q, registrations);
      // Should the chunk still fail after this, the import fails with it and these lists are never reported.
      this.duplicateCount += duplicates.length;
      this.duplicates.push(...duplicates.slice(0, Math.max(0, this.maxListed - this.duplicates.length)));
    },
  };
}
