import { MissingUpcasterError } from '../../errors';
import { isTransient, MAX_RETRY_BACKOFF_MS, retryBackoffMs, RetryStreak, TRANSIENT_REPORT_AFTER } from './transient';

const pgError = (code: string) => Object.assign(new Error(`SQLSTATE ${code}`), { code });

describe('isTransient: failures of the moment are retried, failures of the event stop it', () => {
  it.each([
    ['08006', 'connection failure'],
    ['08P01', 'protocol violation'],
    ['40001', 'serialization failure'],
    ['40P01', 'deadlock'],
    ['53100', 'disk full'],
    ['53200', 'out of memory'],
    ['53300', 'too many connections'],
    ['57014', 'statement cancelled or timed out'],
    ['57P01', 'admin shutdown'],
    ['57P03', 'cannot connect now'],
    ['55P03', 'lock not available (lock_timeout)'],
  ])('%s (%s) is transient', (code) => {
    expect(isTransient(pgError(code))).toBe(true);
    expect(isTransient({ message: 'wrapped by TypeORM', driverError: pgError(code) })).toBe(true);
  });

  it.each([
    ['23505', 'unique violation'],
    ['42P01', 'undefined table'],
    ['22P02', 'invalid text representation'],
    ['55000', 'object not in prerequisite state'],
    ['55006', 'object in use'],
    ['', 'an apply that throws a plain error'],
  ])('%s (%s) is not', (code) => {
    expect(isTransient(pgError(code))).toBe(false);
  });

  it('connection loss without a SQLSTATE is transient; a decoding error is not', () => {
    expect(isTransient(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }))).toBe(true);
    expect(isTransient(new Error('Connection terminated unexpectedly'))).toBe(true);
    const location = { position: 7, streamId: 's', streamVersion: 1, eventId: 'e', type: 'T', schemaVersion: 9 };
    expect(isTransient(new MissingUpcasterError(location, 'no upcaster from v9'))).toBe(false);
  });
});

describe('RetryStreak (injected clock)', () => {
  let now = 1_000;
  const clock = { now: () => now, setTimeout: () => () => undefined };

  it('backs off from two polls, doubling, up to the bound', () => {
    expect([1, 2, 3, 4].map((a) => retryBackoffMs(a, 100))).toEqual([200, 400, 800, 1600]);
    expect(retryBackoffMs(50, 100)).toBe(MAX_RETRY_BACKOFF_MS);
  });

  it(`reports a streak from attempt ${TRANSIENT_REPORT_AFTER}, waits out each backoff, and ends on success`, () => {
    const streak = new RetryStreak('rebuild', clock, 100);
    for (let i = 1; i < TRANSIENT_REPORT_AFTER; i++) streak.failed(pgError('55P03'));
    expect(streak.report()).toBeNull();
    now += 10;
    expect(streak.failed(pgError('55P03'))).toEqual({ attempts: TRANSIENT_REPORT_AFTER, delayMs: 800 });
    expect(streak.report()).toEqual({
      scope: 'rebuild',
      attempts: TRANSIENT_REPORT_AFTER,
      code: '55P03',
      reason: 'SQLSTATE 55P03',
      since: new Date(1_000).toISOString(),
      nextAttemptAt: new Date(now + 800).toISOString(),
    });
    expect(streak.waiting()).toBe(true);
    now += 800;
    expect(streak.waiting()).toBe(false);
    expect(streak.succeeded()).toBe(TRANSIENT_REPORT_AFTER);
    expect(streak.report()).toBeNull();
  });
});
