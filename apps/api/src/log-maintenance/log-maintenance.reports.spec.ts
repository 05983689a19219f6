import type { ImportReport, VerifyReport } from '@app/event-store/tools';
import type { EmailDuplicate } from '../users/email-reservations';
import { importReport, verification } from './log-maintenance.reports';

const log: VerifyReport = {
  checked: 3,
  failures: [],
  failureCount: 0,
  byType: { UserRegistered: { v2: 3 } },
  plaintextPersonalFields: 0,
  durationMs: 7,
};
const duplicate: EmailDuplicate = { email: 'ada@example.com', userId: 'u2', position: 3, heldBy: 'u1' };
const imported: ImportReport = { imported: 5, skipped: 0, position: 5, leftOut: 0, movedOn: [] };

describe('log maintenance reports', () => {
  it('verify: the log report and the email audit in one body, in the documented field order', () => {
    const { report } = verification(log, { checked: 2, duplicates: [duplicate], duplicateCount: 1 });
    expect(Object.keys(report)).toEqual([
      'checked',
      'failures',
      'failureCount',
      'byType',
      'plaintextPersonalFields',
      'durationMs',
      'duplicateEmails',
      'duplicateEmailCount',
    ]);
    expect(report).toMatchObject({ checked: 3, duplicateEmails: [duplicate], duplicateEmailCount: 1 });
  });

  it('verify: the registrations checked stay beside the body, not in it', () => {
    const result = verification(log, { checked: 2, duplicates: [], duplicateCount: 0 });
    expect(result.registrationsChecked).toBe(2);
    expect(result.report).not.toHaveProperty('registrationsChecked');
  });

  it('verify: a field the library adds to its report does not reach the body unasked', () => {
    const { report } = verification({ ...log, extra: 1 } as VerifyReport, { checked: 0, duplicates: [], duplicateCount: 0 });
    expect(report).not.toHaveProperty('extra');
  });

  it.each([
    ['clean', 0, 0, true],
    ['an unreadable event', 1, 0, false],
    ['a duplicated email', 0, 1, false],
  ])('verify: %s makes the run clean = %s', (_, failureCount, duplicateCount, clean) => {
    // Counted, not listed: beyond the listing limit the count alone decides.
    const result = verification({ ...log, failureCount }, { checked: 1, duplicates: [], duplicateCount });
    expect(result.clean).toBe(clean);
  });

  it('import: the import report, then the duplicates; no personalDataKeys without a keys file', () => {
    const report = importReport(imported, undefined, { duplicates: [duplicate], duplicateCount: 4 });
    expect(Object.keys(report)).toEqual([
      'imported',
      'skipped',
      'position',
      'leftOut',
      'movedOn',
      'duplicateEmails',
      'duplicateEmailCount',
    ]);
    expect(report).toMatchObject({ duplicateEmails: [duplicate], duplicateEmailCount: 4 });
  });

  it('import: the keys file report before the duplicates when one was loaded', () => {
    const keys = { keys: 2, erasures: 1 };
    const report = importReport(imported, keys, { duplicates: [], duplicateCount: 0 });
    expect(Object.keys(report).slice(-3)).toEqual(['personalDataKeys', 'duplicateEmails', 'duplicateEmailCount']);
    expect(report.personalDataKeys).toEqual(keys);
  });
});
