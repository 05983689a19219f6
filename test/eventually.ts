/** How `eventually` re-checks its condition. */
export interface EventuallyOptions {
  /** Re-check at least this often, in ms (default 25): the fallback when no signal says when. */
  everyMs?: number;
  /**
   * Re-check at once when something happens (a commit callback, a cache event):
   * called with `recheck`, returns how to unsubscribe.
   */
  wakeOn?: (recheck: () => void) => (() => void) | void;
}

/**
 * The one way tests wait for something to happen: re-checks `check` on each
 * signal from `wakeOn` (else every `everyMs`) until it returns a truthy value,
 * which it resolves with. A check that throws (e.g. an `expect`) counts as "not
 * yet". After `timeoutMs` it fails with `what` and the last result seen, even if
 * a check hangs, so every wait in the suite has a stated bound.
 */
export async function eventually<T>(
  check: () => T | Promise<T>,
  timeoutMs: number,
  what: string,
  { everyMs = 25, wakeOn }: EventuallyOptions = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let signalled = false;
  let wake: (() => void) | undefined;
  const unsubscribe = wakeOn?.(() => {
    signalled = true;
    wake?.();
  });
  let last = 'never completed';
  try {
    for (;;) {
      signalled = false;
      const outcome = await withinDeadline(check, deadline);
      if (outcome.done && outcome.value) return outcome.value;
      if (outcome.done) last = `returned ${brief(outcome.value)}`;
      else if ('error' in outcome) last = `threw ${outcome.error instanceof Error ? outcome.error.message : brief(outcome.error)}`;
      else last = 'still running at the deadline';
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what} (last check ${last})`);
      if (!signalled) await pause(Math.min(everyMs, remaining), (resume) => (wake = resume));
      wake = undefined;
    }
  } finally {
    unsubscribe?.();
  }
}

type Outcome<T> = { done: true; value: T } | { done: false; error: unknown } | { done: false; late: true };

/** Runs one check, giving up on it (not waiting for it) at the deadline. */
async function withinDeadline<T>(check: () => T | Promise<T>, deadline: number): Promise<Outcome<T>> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<Outcome<T>>((resolve) => {
    timer = setTimeout(() => resolve({ done: false, late: true }), Math.max(0, deadline - Date.now()));
  });
  const run = (async (): Promise<Outcome<T>> => {
    try {
      return { done: true, value: await check() };
    } catch (error) {
      return { done: false, error };
    }
  })();
  try {
    return await Promise.race([run, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Sleeps `ms`, or less if the `resume` handed to `onResume` is called first. */
function pause(ms: number, onResume: (resume: () => void) => void): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    onResume(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

function brief(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
