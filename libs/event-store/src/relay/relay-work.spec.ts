import { Logger } from '@nestjs/common';
import type { EventStore } from '../postgres/postgres-event-store';
import type { Queryable } from '../postgres/queryable';
import type { ProjectionRow } from '../projections/projection-state';
import type { ProjectionStateStore } from '../projections/projection-state-store';
import type { RecordedEvent, StoredEvent } from '../types';
import { UnknownEventTypeError } from '../errors';
import type { IntegrationPublisher, PublishedMark } from './integration-publisher';
import { resolveRelayOptions } from './relay-options';
import { RelayWork } from './relay-work';

const sql: Queryable = { query: async () => [], execute: async () => 0 };

function stored(position: number): StoredEvent {
  return {
    position,
    streamId: `s-${position % 3}`,
    streamVersion: position,
    eventId: `e${position}`,
    type: 'T',
    schemaVersion: 1,
    data: {},
    metadata: {},
    recordedAt: '2026-01-01T00:00:00.000Z',
  };
}

/** A log of `head` events, a checkpoint row, and a publisher whose outcomes the test decides. */
function setup(head: number, o: { maxInFlight?: number; brokerHas?: PublishedMark; failAt?: number; unreadableAt?: number } = {}) {
  const row = { name: 'relay.t', version: 1, position: 0, state: 'running', error: null } as unknown as ProjectionRow;
  const store = {
    headPosition: async () => head,
    readBatch: async (from: number, to: number, limit: number) =>
      Array.from({ length: Math.max(0, Math.min(to, head) - from + 1) }, (_, i) => stored(from + i)).slice(0, limit),
    // No personal fields here: rows are read as stored.
    reveal: (rows: StoredEvent[]) => rows,
    registry: {
      upcast: (e: StoredEvent): RecordedEvent => {
        if (e.position === o.unreadableAt) throw new UnknownEventTypeError(e, 'not registered');
        return { ...e, storedSchemaVersion: 1 };
      },
    },
  } as unknown as EventStore;
  const states = {
    read: async () => ({ ...row }),
    insertIfMissing: async () => true,
    advance: async (_q: Queryable, _n: string, _p: string, _v: number, after: number, to: number, stop?: unknown) => {
      if (row.position !== after) return false;
      Object.assign(row, { position: to }, stop ? { state: 'stopped', error: stop } : {});
      return true;
    },
  } as unknown as ProjectionStateStore;
  const sent: Array<{ position: number; previous: string | null }> = [];
  const stream: number[] = [];
  let lastPublishedCalls = 0;
  const publisher: IntegrationPublisher = {
    maxInFlight: o.maxInFlight ?? 1,
    lastPublished: async () => {
      lastPublishedCalls++;
      const last = stream.at(-1);
      return last ? { position: last, eventId: `e${last}` } : (o.brokerHas ?? { position: 0, eventId: null });
    },
    publish: async (event, previous) => {
      sent.push({ position: event.position, previous: previous.eventId });
      await Promise.resolve();
      // The broker refuses an event whose predecessor it does not hold, as JetStream does.
      const expected = stream.at(-1) ?? o.brokerHas?.position;
      if (previous.eventId && expected !== undefined && `e${expected}` !== previous.eventId) throw new Error('wrong last msg id');
      if (event.position === o.failAt) {
        o.failAt = undefined;
        throw new Error('no ack');
      }
      stream.push(event.position);
    },
  };
  const work = new RelayWork(resolveRelayOptions({ name: 't', types: ['T'], publisher, batchSize: 4 }), store, states);
  return { work, row, sent, stream, calls: () => lastPublishedCalls };
}

describe('RelayWork', () => {
  beforeAll(() => jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined));

  it('publishes in position order, batch by batch, each naming the one before it, then checkpoints', async () => {
    const { work, row, sent, stream } = setup(10, { maxInFlight: 4 });
    for (let i = 0; i < 3; i++) expect(await work.step(sql)).toBe('worked');
    expect(await work.step(sql)).toBe('idle');
    expect(stream).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(sent.map((s) => s.previous)).toEqual([null, 'e1', 'e2', 'e3', 'e4', 'e5', 'e6', 'e7', 'e8', 'e9']);
    expect(row.position).toBe(10);
  });

  it('skips what the broker already holds (a crash between ack and checkpoint) and asks only at the start', async () => {
    const { work, row, sent, stream, calls } = setup(8, { brokerHas: { position: 6, eventId: 'e6' } });
    await work.step(sql);
    await work.step(sql);
    expect(sent.map((s) => s.position)).toEqual([7, 8]);
    expect(sent[0].previous).toBe('e6');
    expect(stream).toEqual([7, 8]);
    expect(row.position).toBe(8);
    expect(calls()).toBe(1);
  });

  it('a failed publish moves no checkpoint, lets nothing overtake it, and the retry asks the broker again', async () => {
    const { work, row, stream, calls } = setup(8, { maxInFlight: 4, failAt: 2 });
    await expect(work.step(sql)).rejects.toThrow('no ack');
    expect(row.position).toBe(0);
    expect(stream).toEqual([1]); // 3 and 4 were in flight and refused: their predecessor is not stored
    await work.step(sql);
    await work.step(sql);
    expect(stream).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(row.position).toBe(8);
    expect(calls()).toBe(2);
  });

  it('stops at an event it cannot read, after publishing the ones before it', async () => {
    const { work, row, stream } = setup(6, { unreadableAt: 3 });
    expect(await work.step(sql)).toBe('worked');
    expect(stream).toEqual([1, 2]);
    expect(row).toMatchObject({ position: 2, state: 'stopped', error: { position: 3, code: 'EVENT_STORE.UNKNOWN_EVENT_TYPE' } });
    expect(await work.step(sql)).toBe('idle');
  });

  it('does nothing while paused (the row is stopped)', async () => {
    const { work, row, sent } = setup(3);
    Object.assign(row, { state: 'stopped' });
    expect(await work.step(sql)).toBe('idle');
    expect(sent).toEqual([]);
  });
});
