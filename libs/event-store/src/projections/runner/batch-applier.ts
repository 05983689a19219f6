import { Logger } from '@nestjs/common';
import { context } from '@opentelemetry/api';
import { startBatchSpans } from '../../tracing/projection-spans';
import type { Queryable } from '../../postgres/queryable';
import type { RecordedEvent } from '../../types';
import { untilPoison, type BatchFeed } from './batch-feed';
import { BatchSizer } from './batch-sizer';
import type { Projection, ProjectionCommit, ProjectionFault, TableNames } from '../projection';
import type { ProjectionError, ProjectionPhase, ProjectionRow } from '../projection-state';
import { positionOf, skippedPositions } from '../projection-state';
import { isTransient } from './transient';
import type { ProjectionStateStore } from '../projection-state-store';

/**
 * Rebuild batches commit without waiting for the WAL flush: nobody reads the
 * shadow tables, a crash can only lose the last batches together with their
 * checkpoint (commits stay atomic and in order), and the switch, which
 * commits synchronously, flushes everything before it.
 */
const ASYNC_COMMIT = 'SET LOCAL synchronous_commit = off';

export interface BatchApplierOptions {
  projection: Projection;
  phase: ProjectionPhase;
  states: ProjectionStateStore;
  feed: BatchFeed;
  batchSize: number;
  /** Physical tables this phase writes. */
  tables: TableNames;
  /** Told about each committed batch (the live phase only: rebuild batches change nothing readers see). */
  onCommit?: (commit: ProjectionCommit) => void;
  /** Told when the phase stops on an event, for a metric. */
  onFault?: (fault: ProjectionFault) => void;
}

/**
 * Applies a phase's next batch in one transaction on the lock connection:
 * first a compare-and-set of the phase's checkpoint (which also takes the
 * projection row's lock, so operator commands wait for the batch and never
 * deadlock with it), then the projection's writes. A poison event stops the
 * phase at the position before it; only this phase's state changes.
 */
export class BatchApplier {
  readonly sizer: BatchSizer;
  private readonly logger: Logger;

  constructor(private readonly o: BatchApplierOptions) {
    this.sizer = new BatchSizer(o.batchSize);
    this.logger = new Logger(`Projection:${o.projection.name}`);
  }

  /** Forgets the prefetched batch and the isolation search (a new tenure, or the row changed under us). */
  reset(): void {
    this.o.feed.reset();
    this.sizer.reset();
  }

  /**
   * Applies the phase's next batch when it is behind `head` (the batch itself may reach a later
   * settled head). Updates `row` to the new checkpoint (and stop); true when something changed.
   */
  async applyNext(sql: Queryable, row: ProjectionRow, head: number): Promise<boolean> {
    const { phase } = this.o;
    const after = positionOf(row, phase);
    if (after >= head) return false;
    const batch = await this.o.feed.take(after + 1, this.sizer.limit);
    const { events: recorded, poison } = untilPoison(batch, phase, skippedPositions(row, phase));
    const to = poison ? poison.position - 1 : batch.to;
    if (to <= after && !poison) return false;
    const version = phase === 'live' ? row.version : row.rebuild!.version;
    let committed: { to: number; poison?: ProjectionError; tags: string[] };
    try {
      const tags = await inTransaction(sql, async () => {
        if (phase === 'rebuild') await sql.query(ASYNC_COMMIT);
        if (!(await this.o.states.advance(sql, row.name, phase, version, after, to, poison))) throw new CheckpointMoved();
        return recorded.length ? this.applyProjection(recorded, sql) : [];
      });
      committed = { to, poison, tags };
    } catch (error) {
      if (error instanceof CheckpointMoved) return this.moved();
      // Only the projection's own failure can mean a poison event, and only when it is not one of the
      // moment (connection lost, deadlock, a cancel or timeout, no memory or disk, a lock timeout):
      // those go to the runner, which backs off and tries the same batch again.
      if (!(error instanceof ProjectionApplyError)) throw error;
      if (isTransient(error.cause)) throw error.cause;
      this.o.feed.reset();
      if (this.sizer.limit > 1 && batch.events.length > 1) {
        this.sizer.isolate(batch.events[batch.events.length - 1].position);
        return true;
      }
      const failed = applyFailure(recorded[0], error.cause, phase);
      const stopped = await inTransaction(sql, () =>
        this.o.states.advance(sql, row.name, phase, version, after, failed.position - 1, failed),
      );
      if (!stopped) return this.moved();
      committed = { to: failed.position - 1, poison: failed, tags: [] };
    }
    return this.afterCommit(row, after, committed);
  }

  private afterCommit(row: ProjectionRow, after: number, c: { to: number; poison?: ProjectionError; tags: string[] }): boolean {
    const { phase, projection } = this.o;
    this.sizer.committed(c.to, c.poison !== undefined);
    if (c.poison) {
      this.o.feed.reset();
      const p = c.poison;
      const where = `${p.type} v${p.schemaVersion}, stream ${p.streamId}`;
      this.logger.error(`${phase}: stopped at position ${p.position} (${where}): ${p.code} ${p.reason}`);
      this.o.onFault?.({ projection: projection.name, scope: phase === 'live' ? 'projection' : 'rebuild', outcome: 'stop', code: p.code });
    }
    if (phase === 'live') {
      row.position = c.to;
      if (c.poison) Object.assign(row, { state: 'stopped', error: c.poison });
      this.o.onCommit?.({ projection: projection.name, position: c.to, tags: c.tags });
    } else {
      Object.assign(row.rebuild!, { position: c.to }, c.poison ? { state: 'stopped', error: c.poison } : {});
    }
    return c.to > after;
  }

  /** The checkpoint is not where this runner saw it (an operator command won the row first): start over from the row. */
  private moved(): boolean {
    this.reset();
    return true;
  }

  /** Applies the events, each in a span parented by its append's trace; logs the batch with its correlation ids at debug level. */
  private async applyProjection(events: RecordedEvent[], sql: Queryable): Promise<string[]> {
    const { projection, phase, tables } = this.o;
    const spans = startBatchSpans(projection.name, phase, events);
    try {
      const tags = await context.with(spans.context, () => projection.apply(events, sql, tables));
      spans.end();
      // Only events that carry correlation ids are worth a line (the app's all do; a bare library user's are not spammed).
      const correlationIds = [...new Set(events.map((e) => e.metadata.correlationId).filter(Boolean))];
      if (correlationIds.length)
        this.logger.debug({ msg: `${phase}: applied ${events.length} events`, phase, ...positionsOf(events), correlationIds });
      return tags;
    } catch (cause) {
      spans.end(cause);
      throw new ProjectionApplyError(cause);
    }
  }
}

/** The positions a batch covers, for its log line. */
function positionsOf(events: RecordedEvent[]): { from: number; to: number } {
  return { from: events[0].position, to: events[events.length - 1].position };
}

/** Runs `work` in a transaction on the lock connection. */
export async function inTransaction<T>(sql: Queryable, work: () => Promise<T>): Promise<T> {
  await sql.query('BEGIN');
  try {
    const result = await work();
    await sql.query('COMMIT');
    return result;
  } catch (error) {
    await sql.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** The row no longer matches what the batch was planned on; nothing was written. */
export class CheckpointMoved extends Error {}

/** Marks a failure thrown by the projection's own `apply`, as opposed to the runner's I/O. */
class ProjectionApplyError extends Error {
  constructor(readonly cause: unknown) {
    super((cause as Error)?.message ?? String(cause));
  }
}

function applyFailure(event: RecordedEvent, cause: unknown, phase: ProjectionPhase): ProjectionError {
  const { position, streamId, streamVersion, eventId, type, schemaVersion } = event;
  const reason = (cause as Error)?.message ?? String(cause);
  const at = new Date().toISOString();
  return { position, streamId, streamVersion, eventId, type, schemaVersion, code: 'PROJECTION.APPLY_FAILED', reason, at, phase };
}
