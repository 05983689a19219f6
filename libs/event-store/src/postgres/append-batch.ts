import { BatchTooLargeError, InvalidAppendError } from '../errors';
import type { AppendResult, ExpectedVersion } from '../types';
import { activeTraceMetadata } from '../tracing/event-trace';
import { appendError, AppendTarget, VERSION_TAKEN } from './append';
import { checkEvents, checkStream, EventToWrite } from './append-request';
import type { Queryable } from './queryable';

/** One stream's part of a batch append. */
export interface StreamAppend {
  streamId: string;
  events: EventToWrite[];
  /** What the stream must look like for the batch to be written. Default `'any'`. */
  expectedVersion?: ExpectedVersion;
}

/** Result of a batch append. */
export interface BatchAppendResult {
  /** One result per stream, in request order (`written: false` for a stream whose events were all stored already). */
  streams: Array<AppendResult & { streamId: string }>;
  /** Highest position among them: wait for it (e.g. `X-Min-Position`) to read the whole batch back. */
  position: number;
}

/** Most events one batch takes. */
export const MAX_EVENTS_PER_BATCH = 10_000;
/**
 * Most streams one batch takes: the bound on the stream locks one batch
 * transaction holds. Each stream lock (a transaction advisory lock) takes a
 * slot of the server's shared lock table until COMMIT. That table holds
 * `max_locks_per_transaction` (default 64) slots per connection; 50 stream
 * locks, plus the global append lock and the transaction id's lock, stay
 * within one connection's share, so no number of concurrent maximum-size
 * batches (one per connection) can exhaust it. At 1000 a dozen concurrent
 * batches did ("out of shared memory").
 */
export const MAX_STREAMS_PER_BATCH = 50;

const LIMIT = { streams: MAX_STREAMS_PER_BATCH, events: MAX_EVENTS_PER_BATCH };

const BATCH_SQL = (schema: string) => `SELECT out_stream, out_position, out_stream_version, out_written
  FROM ${schema}.append_to_streams($1::text[], $2::text[], $3::int[], $4::uuid[], $5::int[], $6::jsonb, $7, $8, $9)`;

/** One event of the batch as the SQL function takes it (one JSON array for the whole batch). */
interface BatchRow {
  stream: number;
  /** 1-based rank of the event within its stream's part of the batch. */
  rank: number;
  id: string;
  type: string;
  version: number;
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
  recorded: string | null;
}

/**
 * Appends events to one or many streams in one statement (one round trip),
 * all or nothing: if any stream is not at its expected version, nothing is
 * written and the error names that stream. Same global-order and idempotency
 * guarantees as a single append.
 */
export async function appendBatch(q: Queryable, target: AppendTarget, appends: StreamAppend[]): Promise<BatchAppendResult> {
  if (!Array.isArray(appends) || appends.length === 0) throw new InvalidAppendError(`a batch takes 1..${MAX_STREAMS_PER_BATCH} streams`);
  if (appends.length > MAX_STREAMS_PER_BATCH) throw new BatchTooLargeError(LIMIT, { streams: appends.length });
  const streams = new Set<string>();
  const seenIds = new Set<string>();
  const batch: BatchRow[] = [];
  const occurredAt = new Date().toISOString();
  const stamp = activeTraceMetadata();
  appends.forEach((a, i) => {
    checkStream(a?.streamId, a?.expectedVersion ?? 'any');
    if (streams.has(a.streamId)) throw new InvalidAppendError(`stream "${a.streamId}" appears twice in the batch`);
    streams.add(a.streamId);
    if (!Array.isArray(a.events) || a.events.length === 0) throw new InvalidAppendError(`stream "${a.streamId}" has no events`);
    checkEvents(a.events, seenIds);
    a.events.forEach((e, k) => {
      batch.push({
        stream: i + 1,
        rank: k + 1,
        id: e.eventId as string,
        type: e.type,
        version: e.schemaVersion,
        data: e.data,
        metadata: { occurredAt, ...stamp, ...e.metadata },
        recorded: e.recordedAt ?? null,
      });
    });
  });
  if (batch.length > MAX_EVENTS_PER_BATCH) throw new BatchTooLargeError(LIMIT, { streams: appends.length, events: batch.length });
  try {
    const rows: Array<{ out_stream: number; out_position: string; out_stream_version: number; out_written: boolean }> = await q.query(
      BATCH_SQL(target.schema),
      [
        appends.map((a) => a.streamId),
        appends.map((a) => String(a.expectedVersion ?? 'any')),
        batch.map((e) => e.stream),
        batch.map((e) => e.id),
        batch.map((e) => e.rank),
        JSON.stringify(batch),
        target.streamLockClass,
        ...target.sequenceLock,
      ],
    );
    const results = rows.map((r) => ({
      streamId: appends[r.out_stream - 1].streamId,
      position: Number(r.out_position),
      streamVersion: r.out_stream_version,
      written: r.out_written,
    }));
    return { streams: results, position: Math.max(...results.map((r) => r.position)) };
  } catch (error) {
    throw appendError(error, (pg) => {
      const byVersion = VERSION_TAKEN.exec(pg.detail ?? '');
      const byId = /\(event_id\)=\((.*)\) already exists/.exec(pg.detail ?? '');
      const index = byVersion
        ? appends.findIndex((a) => a.streamId === byVersion[1])
        : byId
          ? appends.findIndex((a) => a.events.some((e) => e.eventId?.toLowerCase() === byId[1]))
          : Number(pg.hint) - 1;
      const a = appends[index] ?? appends[0];
      return { streamId: a.streamId, expectedVersion: a.expectedVersion ?? 'any', eventIds: a.events.map((e) => e.eventId as string) };
    });
  }
}
