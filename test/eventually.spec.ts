import { eventually } from './eventually';

describe('eventually', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('re-checks until the condition holds and resolves with its value', async () => {
    let checks = 0;
    const waiting = eventually(() => (++checks >= 3 ? { checks } : null), 1_000, 'the third check');
    await jest.advanceTimersByTimeAsync(50);
    await expect(waiting).resolves.toEqual({ checks: 3 });
  });

  it('treats a throwing check as "not yet" and names what it waited for and the last failure', async () => {
    const waiting = eventually(
      () => {
        throw new Error('expected 2, got 1');
      },
      100,
      'the counter to reach 2',
    );
    const failure = expect(waiting).rejects.toThrow(
      'Timed out after 100 ms waiting for the counter to reach 2 (last check threw expected 2, got 1)',
    );
    await jest.advanceTimersByTimeAsync(150);
    await failure;
  });

  it('re-checks at once on a signal instead of waiting for the next poll', async () => {
    let ready = false;
    let unsubscribed = false;
    let signal: () => void = () => undefined;
    const waiting = eventually(() => ready, 60_000, 'the signal', {
      everyMs: 60_000,
      wakeOn: (recheck) => {
        signal = recheck;
        return () => (unsubscribed = true);
      },
    });
    await jest.advanceTimersByTimeAsync(0);
    ready = true;
    signal();
    await jest.advanceTimersByTimeAsync(0); // no time passes: only the signal can have woken it
    await expect(waiting).resolves.toBe(true);
    expect(unsubscribed).toBe(true);
  });

  it('keeps its bound when a check never completes', async () => {
    const waiting = eventually(() => new Promise<boolean>(() => undefined), 500, 'a hung check');
    const failure = expect(waiting).rejects.toThrow('waiting for a hung check (last check still running at the deadline)');
    await jest.advanceTimersByTimeAsync(600);
    await failure;
  });
});
