import type { ProjectionError, ProjectionPhase, ProjectionRow, RebuildState, SkippedEvent } from './projection-state';
import { skippedPositions } from './projection-state';

const STARTED = '2026-01-01T00:00:00.000+00:00';
const rebuild = (over: Partial<RebuildState> = {}): RebuildState => ({
  version: 2,
  position: 0,
  startedAt: STARTED,
  prepared: true,
  state: 'running',
  error: null,
  ...over,
});
const row = (skipped: SkippedEvent[], over: Partial<ProjectionRow> = {}): ProjectionRow => ({
  name: 'p',
  version: 1,
  position: 10,
  state: 'running',
  error: null,
  rebuild: null,
  abortedRebuild: null,
  skipped,
  updatedAt: STARTED,
  ...over,
});
const error = (position: number, phase: ProjectionPhase) => ({ position, phase }) as ProjectionError;
const liveSkip = (position: number): SkippedEvent => ({ position, at: STARTED, error: error(position, 'live'), phase: 'live' });
const rebuildSkip = (position: number, version = 2, startedAt = STARTED): SkippedEvent => ({
  position,
  at: STARTED,
  error: error(position, 'rebuild'),
  phase: 'rebuild',
  rebuild: { version, startedAt },
});
const sorted = (s: Set<number>) => [...s].sort((a, b) => a - b);

describe('skippedPositions: a skip holds for the phase it was recorded for', () => {
  it('live batches leave out live skips only, never a rebuild-only skip', () => {
    const r = row([liveSkip(3), rebuildSkip(5)], { rebuild: rebuild() });
    expect(sorted(skippedPositions(r, 'live'))).toEqual([3]);
  });

  it('after the rebuild is aborted, the live model still applies the event skipped in that rebuild', () => {
    expect(sorted(skippedPositions(row([rebuildSkip(5)]), 'live'))).toEqual([]);
  });

  it('a rebuild leaves out the live skips and its own skips', () => {
    const r = row([liveSkip(3), rebuildSkip(5)], { rebuild: rebuild() });
    expect(sorted(skippedPositions(r, 'rebuild'))).toEqual([3, 5]);
  });

  it("a later rebuild (another version, or the same version started again) does not inherit an earlier rebuild's skip", () => {
    const skips = [liveSkip(3), rebuildSkip(5, 2)];
    expect(sorted(skippedPositions(row(skips, { rebuild: rebuild({ version: 3 }) }), 'rebuild'))).toEqual([3]);
    const again = rebuild({ startedAt: '2026-01-02T00:00:00.000+00:00' });
    expect(sorted(skippedPositions(row(skips, { rebuild: again }), 'rebuild'))).toEqual([3]);
  });

  it('reads skips recorded before they named their phase by the phase of their error', () => {
    const legacyLive: SkippedEvent = { position: 3, at: STARTED, error: error(3, 'live') };
    const legacyRebuild: SkippedEvent = { position: 5, at: STARTED, error: error(5, 'rebuild') };
    const r = row([legacyLive, legacyRebuild], { rebuild: rebuild() });
    expect(sorted(skippedPositions(r, 'live'))).toEqual([3]);
    expect(sorted(skippedPositions(r, 'rebuild'))).toEqual([3, 5]);
  });
});
