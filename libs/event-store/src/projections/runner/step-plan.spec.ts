import type { ProjectionRow, RebuildState } from '../projection-state';
import { planStep } from './step-plan';

const row = (over: Partial<ProjectionRow> = {}): ProjectionRow => ({
  name: 'p',
  version: 1,
  position: 10,
  state: 'running',
  error: null,
  rebuild: null,
  abortedRebuild: null,
  skipped: [],
  updatedAt: '2026-01-01T00:00:00.000Z',
  ...over,
});
const rebuild = (over: Partial<RebuildState> = {}): RebuildState => ({
  version: 2,
  position: 0,
  startedAt: '2026-01-01T00:00:00.000Z',
  prepared: true,
  state: 'running',
  error: null,
  ...over,
});
const stopped = { state: 'stopped' as const, error: null };

describe('planStep: what an instance may do with the stored row', () => {
  it('follows the log with the code of the live version', () => {
    expect(planStep(row(), 1)).toEqual({ kind: 'work', live: true, rebuild: undefined });
  });

  it('stands by for newer code: an older live model version, or a running newer rebuild', () => {
    expect(planStep(row({ version: 3 }), 2)).toEqual({ kind: 'stand-by', reason: 'newer-code' });
    expect(planStep(row({ rebuild: rebuild({ version: 3 }) }), 2)).toEqual({ kind: 'stand-by', reason: 'newer-code' });
  });

  it('a newer deploy schedules its rebuild, replacing an older rebuild even when that one is stopped', () => {
    expect(planStep(row(), 2)).toEqual({ kind: 'schedule-rebuild' });
    expect(planStep(row({ rebuild: rebuild({ version: 2, ...stopped }) }), 3)).toEqual({ kind: 'schedule-rebuild' });
  });

  it('does not schedule again a version an operator aborted, but a newer one does', () => {
    const abortedRebuild = { version: 2, position: 5, at: '2026-01-01T00:00:00.000Z' };
    expect(planStep(row({ abortedRebuild }), 2)).toEqual({ kind: 'stand-by', reason: 'nothing-to-do' });
    expect(planStep(row({ abortedRebuild }), 3)).toEqual({ kind: 'schedule-rebuild' });
  });

  it('prepares, then fills its own rebuild; the live model keeps following only under the same version', () => {
    expect(planStep(row({ rebuild: rebuild({ prepared: false }) }), 2)).toEqual({ kind: 'work', live: false, rebuild: 'prepare' });
    expect(planStep(row({ rebuild: rebuild() }), 2)).toEqual({ kind: 'work', live: false, rebuild: 'fill' });
    expect(planStep(row({ rebuild: rebuild({ version: 1 }) }), 1)).toEqual({ kind: 'work', live: true, rebuild: 'fill' });
  });

  it('a stopped rebuild stops only itself: the live model goes on, even under older code', () => {
    expect(planStep(row({ rebuild: rebuild({ version: 1, ...stopped }) }), 1)).toEqual({ kind: 'work', live: true, rebuild: undefined });
    expect(planStep(row({ rebuild: rebuild({ version: 2, ...stopped }) }), 1)).toEqual({ kind: 'work', live: true, rebuild: undefined });
  });

  it('newer code with its rebuild stopped has nothing to apply and stands by (an older instance may serve the live model)', () => {
    expect(planStep(row({ rebuild: rebuild({ version: 2, ...stopped }) }), 2)).toEqual({ kind: 'stand-by', reason: 'nothing-to-do' });
  });

  it('a stopped live model does not hold up its rebuild; with neither, the holder idles', () => {
    expect(planStep(row({ ...stopped, rebuild: rebuild({ version: 1 }) }), 1)).toEqual({ kind: 'work', live: false, rebuild: 'fill' });
    expect(planStep(row(stopped), 1)).toEqual({ kind: 'idle' });
  });
});
