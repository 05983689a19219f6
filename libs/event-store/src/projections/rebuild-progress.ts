import { Logger } from '@nestjs/common';
import type { Clock } from './clock';
import type { ProjectionRow, RebuildProgress } from './projection-state';

/** Rebuild progress from positions: the log's positions are the unit of work. */
export function rebuildProgress(row: ProjectionRow, head: number, now: number): RebuildProgress {
  const rebuild = row.rebuild!;
  const elapsed = Math.max(0.001, (now - Date.parse(rebuild.startedAt)) / 1000);
  const eventsPerSecond = Math.round(rebuild.position / elapsed);
  const left = Math.max(0, head - rebuild.position);
  return {
    eventsPerSecond,
    etaSeconds: eventsPerSecond > 0 ? Math.ceil(left / eventsPerSecond) : null,
    percent: head > 0 ? Math.min(100, Math.round((1000 * rebuild.position) / head) / 10) : 100,
  };
}

/** Logs each running rebuild's progress at most every `everyMs`. */
export class RebuildProgressLog {
  private readonly last = new Map<string, number>();
  private readonly logger = new Logger('Projections');

  constructor(
    private readonly clock: Clock,
    private readonly everyMs = 2000,
  ) {}

  report(row: ProjectionRow, head: number): void {
    const now = this.clock.now();
    if (!row.rebuild || now - (this.last.get(row.name) ?? 0) < this.everyMs) return;
    this.last.set(row.name, now);
    const { percent, eventsPerSecond, etaSeconds } = rebuildProgress(row, head, now);
    this.logger.log(
      `rebuild ${row.name} v${row.rebuild.version}: ${percent}% (position ${row.rebuild.position}/${head}), ` +
        `${eventsPerSecond} events/s, ETA ${etaSeconds ?? '?'} s`,
    );
  }
}
