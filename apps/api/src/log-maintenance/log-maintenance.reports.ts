import type { ImportReport, PersonalDataKeysReport, VerifyReport } from '@app/event-store/tools';
import type { EmailAuditReport } from '../users/email-audit';
import type { EmailDuplicate } from '../users/email-reservations';

/**
 * What verify reports: the log's report and the email audit's duplicates. Field names are a
 * public contract (the body of `POST /admin/events/verify`).
 */
export interface LogVerifyReport extends VerifyReport {
  /** Up to 1000 registrations that do not hold their email, in log order. */
  duplicateEmails: EmailDuplicate[];
  /** All of them, listed or not. */
  duplicateEmailCount: number;
}

/** A verify run: the report, and what `events:verify` prints and exits on beside it. */
export interface LogVerification {
  report: LogVerifyReport;
  /** Registrations the email audit checked. */
  registrationsChecked: number;
  /** Every event reads and every registration holds its email. */
  clean: boolean;
}

/**
 * What an import reports: the store's import report, the keys file's when one was loaded, and
 * the imported registrations whose email another user holds. Field names are a public contract
 * (`events:import`'s output, the body of `POST /admin/events/import`).
 */
export interface LogImportReport extends ImportReport {
  personalDataKeys?: PersonalDataKeysReport;
  /** Up to 1000 imported registrations that do not hold their email, in log order. */
  duplicateEmails: EmailDuplicate[];
  /** All of them, listed or not (of the chunks that committed). */
  duplicateEmailCount: number;
}

/** The duplicates an email check found (the audit, or an import's chunks). */
type EmailDuplicates = Pick<EmailAuditReport, 'duplicates' | 'duplicateCount'>;

/** Verify's report, composed here only: the HTTP body and the CLI's text both come from it. */
export function verification(log: VerifyReport, emails: EmailAuditReport): LogVerification {
  const { checked, failures, failureCount, byType, plaintextPersonalFields, durationMs } = log;
  return {
    // Named field by field: the body is a contract, and a field the library adds to its report is not in it unasked.
    report: {
      checked,
      failures,
      failureCount,
      byType,
      plaintextPersonalFields,
      durationMs,
      duplicateEmails: emails.duplicates,
      duplicateEmailCount: emails.duplicateCount,
    },
    registrationsChecked: emails.checked,
    clean: failureCount === 0 && emails.duplicateCount === 0,
  };
}

/** An import's report; `personalDataKeys` only when a keys file was loaded. */
export function importReport(report: ImportReport, keys: PersonalDataKeysReport | undefined, emails: EmailDuplicates): LogImportReport {
  return {
    ...report,
    ...(keys && { personalDataKeys: keys }),
    duplicateEmails: emails.duplicates,
    duplicateEmailCount: emails.duplicateCount,
  };
}
