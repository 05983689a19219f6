import { Injectable } from '@nestjs/common';
import { EventStore, type EventStoreHandle } from '@app/event-store';
import {
  exportLines,
  exportPersonalDataKeys,
  importLines,
  importPersonalDataKeys,
  sealPlaintextLines,
  verifyStore,
  type ImportInput,
  type ImportProgress,
  type VerifyOptions,
} from '@app/event-store/tools';
import { auditEmails } from '../users/email-audit';
import { EmailReservations } from '../users/email-reservations';
import { ImportedEmails } from '../users/imported-emails';
import { importReport, verification, type LogImportReport, type LogVerification } from './log-maintenance.reports';

/** How to run verify: progress for a caller that shows it. */
export type LogVerifyOptions = Pick<VerifyOptions, 'onProgress' | 'progressEvery'>;

/** How to run an import. */
export interface LogImportOptions {
  /** Size of the input when known (a file, a Content-Length), for progress. */
  totalBytes?: number;
  onProgress?: (progress: ImportProgress) => void;
  /** A keys file (`events:export --keys`): loaded before the events, so their registrations' emails can be read. */
  keys?: ImportInput;
}

/**
 * The operator's maintenance of the log: verify, export and import, each with what the app adds
 * to the library's tools (the email audit, email reservations per import chunk, sealing of
 * plaintext personal fields). The admin endpoints and the CLIs both run it, so an operator gets
 * the same answer from either; they only translate HTTP, argv and stdout to it. A plain class:
 * Nest injects it, and the CLIs, which have no container, build it with `LogMaintenance.of`.
 */
@Injectable()
export class LogMaintenance {
  constructor(
    private readonly store: EventStore,
    private readonly reservations: EmailReservations,
  ) {}

  /** Over a store opened without Nest (`openStore()`). */
  static of(handle: EventStoreHandle): LogMaintenance {
    return new LogMaintenance(handle.store, new EmailReservations(handle));
  }

  /**
   * Reads every stored event through the upcasters and validators, then checks that every
   * registration holds its email. A report, never a throw, for failures and duplicates.
   */
  async verify(options: LogVerifyOptions = {}): Promise<LogVerification> {
    const log = await verifyStore(this.store, options);
    const emails = await auditEmails(this.store, this.reservations);
    return verification(log, emails);
  }

  /** The whole log as export lines (JSON lines), oldest first; personal fields stay ciphertext. */
  exportLines(): AsyncGenerator<string> {
    return exportLines(this.store);
  }

  /** The personal-data keys (still wrapped by the master key) and tombstones, as lines for their own file. */
  exportKeys(): AsyncGenerator<string> {
    return exportPersonalDataKeys(this.store);
  }

  /**
   * Imports export lines in bulk, keeping types and versions; idempotent by event id, so a
   * re-run continues where a crash stopped. Plaintext personal fields (history from before
   * encryption) are encrypted on the way in. Each chunk reserves the emails of the registrations
   * it writes in its own transaction (the earliest keeps an email); the report lists those
   * whose email another user holds.
   */
  async import(input: ImportInput, options: LogImportOptions = {}): Promise<LogImportReport> {
    // First, so that events of persons whose keys it brings are readable; it never restores a tombstoned person's key.
    const keys = options.keys && (await importPersonalDataKeys(this.store, options.keys));
    const emails = new ImportedEmails(this.store, this.reservations);
    const report = await importLines(this.store, sealPlaintextLines(this.store, input), {
      totalBytes: options.totalBytes,
      onProgress: options.onProgress,
      inChunk: emails.hook,
    });
    return importReport(report, keys, emails);
  }
}
