import type { ProjectionRow } from '../projection-state';

/** What an instance running version `code` of a projection may do with its row. */
export type StepPlan =
  /** Another instance runs newer code (or nothing here applies to this version): let the lock go. */
  | { kind: 'stand-by'; reason: 'newer-code' | 'nothing-to-do' }
  /** This deploy is newer than the live model and any rebuild: schedule a rebuild to it. */
  | { kind: 'schedule-rebuild' }
  /** Keep the lock, nothing to apply (e.g. the live model is stopped on an error). */
  | { kind: 'idle' }
  | { kind: 'work'; live: boolean; rebuild?: 'prepare' | 'fill' };

/**
 * Decides a step from the stored row alone, so every instance of a rolling
 * deploy agrees: code applies only rules of its own version; the live model
 * follows the log only under the code of its version; a rebuild runs only
 * under the code of the rebuild's version; a stopped phase waits for an
 * operator (retry, skip, abort) or a newer deploy, without holding up the other.
 */
export function planStep(row: ProjectionRow, code: number): StepPlan {
  const rebuild = row.rebuild;
  if (code < row.version || (rebuild && rebuild.state === 'running' && code < rebuild.version)) {
    return { kind: 'stand-by', reason: 'newer-code' };
  }
  const aborted = row.abortedRebuild !== null && row.abortedRebuild.version >= code;
  if (code > row.version && (!rebuild || rebuild.version < code) && !aborted) return { kind: 'schedule-rebuild' };
  const live = row.version === code && row.state === 'running';
  const ownRebuild = rebuild && rebuild.version === code && rebuild.state === 'running';
  if (!live && !ownRebuild) return row.version === code ? { kind: 'idle' } : { kind: 'stand-by', reason: 'nothing-to-do' };
  return { kind: 'work', live, rebuild: ownRebuild ? (rebuild.prepared ? 'fill' : 'prepare') : undefined };
}

/** Why an instance stands by, for the log. */
export function standByMessage(row: ProjectionRow, code: number, reason: 'newer-code' | 'nothing-to-do'): string {
  const rebuild = row.rebuild ? `, a v${row.rebuild.version} rebuild ${row.rebuild.state}` : '';
  const stored = `the store has ${row.name} live at v${row.version}${rebuild}`;
  return reason === 'newer-code'
    ? `this instance has ${row.name} v${code} but ${stored}: standing by for a newer instance`
    : `this instance has ${row.name} v${code} and ${stored}: nothing it may apply, standing by` +
        (row.abortedRebuild?.version === code ? ` (the v${code} rebuild was aborted)` : '');
}
