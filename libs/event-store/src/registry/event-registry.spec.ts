import { IsInt, IsString, Min } from 'class-validator';
import {
  EventRegistryError,
  EventValidationError,
  InvalidAppendError,
  MissingUpcasterError,
  UnknownEventTypeError,
  UpcastFailedError,
} from '../errors';
import type { StoredEvent } from '../types';
import { defineEvent } from './event-definition';
import { EventRegistry } from './event-registry';

class ScoredV1 {
  @IsString() score: string;
}
class ScoredV2 {
  @IsInt() score: number;
}
class Scored {
  constructor(props?: Partial<Scored>) {
    Object.assign(this, props);
  }
  @IsInt() @Min(0) score: number;
  @IsString() scoredAt: string;
}
const scored = defineEvent({
  type: 'Scored',
  version: 3,
  eventClass: Scored,
  history: [
    { version: 1, shape: ScoredV1, upcast: (d: ScoredV1) => ({ score: Number.parseInt(d.score, 10) }) },
    { version: 2, shape: ScoredV2, upcast: (d: ScoredV2, ctx) => ({ ...d, scoredAt: ctx.metadata.occurredAt }) },
  ],
});

const stored = (schemaVersion: number, data: Record<string, unknown>, type = 'Scored'): StoredEvent => ({
  position: 42,
  streamId: 'game-1',
  streamVersion: 3,
  eventId: '6f1c1a52-8d47-4ad5-9a55-0d3d3f1f4a10',
  type,
  schemaVersion,
  data,
  metadata: { occurredAt: '2020-01-02T03:04:05.000Z' },
  recordedAt: '2020-01-02T03:04:06.000Z',
});

describe('EventRegistry', () => {
  const registry = new EventRegistry([scored]);

  it('composes v1 -> v2 -> v3 and returns an instance of the latest class', () => {
    const e = registry.upcast<Scored>(stored(1, { score: '17' }));
    expect(e.data).toBeInstanceOf(Scored);
    expect(e.data).toEqual(new Scored({ score: 17, scoredAt: '2020-01-02T03:04:05.000Z' }));
    expect(e).toMatchObject({ schemaVersion: 3, storedSchemaVersion: 1, position: 42, streamId: 'game-1' });
  });

  it('reads the latest version without upcasting', () => {
    expect(registry.upcast(stored(3, { score: 1, scoredAt: 'x' })).data).toEqual(new Scored({ score: 1, scoredAt: 'x' }));
  });

  it('never mutates the stored data', () => {
    const row = stored(2, { score: 5 });
    registry.upcast(row);
    expect(row.data).toEqual({ score: 5 });
  });

  it.each([
    ['unknown type', stored(1, { score: '1' }, 'Nope'), UnknownEventTypeError],
    ['future version', stored(4, { score: 1 }), MissingUpcasterError],
    ['version 0', stored(0, { score: 1 }), MissingUpcasterError],
    ['invalid historic shape', stored(1, { score: 3 }), EventValidationError],
    ['invalid latest shape', stored(3, { score: -1, scoredAt: 'x' }), EventValidationError],
  ])('reports %s with the event location', (_name, row, errorClass) => {
    try {
      registry.upcast(row);
      throw new Error('expected a failure');
    } catch (error) {
      expect(error).toBeInstanceOf(errorClass);
      expect((error as UnknownEventTypeError).location).toMatchObject({ position: 42, streamId: 'game-1', type: row.type });
      expect((error as Error).message).toContain('position 42');
    }
  });

  it('wraps a throwing upcaster in UpcastFailedError', () => {
    const r = new EventRegistry([
      defineEvent({
        type: 'Boom',
        version: 2,
        eventClass: Scored,
        history: [
          {
            version: 1,
            upcast: () => {
              throw new Error('bad');
            },
          },
        ],
      }),
    ]);
    expect(() => r.upcast(stored(1, {}, 'Boom'))).toThrow(UpcastFailedError);
  });

  it.each([
    ['a missing historic version', { type: 'A', version: 3, eventClass: class A {}, history: [{ version: 1, upcast: (d: object) => d }] }],
    ['a version without upcaster', { type: 'B', version: 2, eventClass: class B {}, history: [{ version: 1 }] }],
    [
      'a historic version >= current',
      {
        type: 'C',
        version: 2,
        eventClass: class C {},
        history: [
          { version: 1, upcast: (d: object) => d },
          { version: 2, upcast: (d: object) => d },
        ],
      },
    ],
    ['a non-integer version', { type: 'D', version: 1.5, eventClass: class D {} }],
  ])('fails at registration on %s', (_name, definition) => {
    expect(() => new EventRegistry([definition as never])).toThrow(EventRegistryError);
  });

  it('refuses the same type or class twice', () => {
    expect(() => new EventRegistry([scored, { ...scored, eventClass: class X {} }])).toThrow(/registered twice/);
    expect(() => new EventRegistry([scored, { ...scored, type: 'Other' }])).toThrow(/already registered/);
  });

  it('serialises by registered type name and validates before writing', () => {
    expect(registry.serialize(new Scored({ score: 2, scoredAt: 't' }))).toMatchObject({
      type: 'Scored',
      schemaVersion: 3,
      data: { score: 2, scoredAt: 't' },
    });
    expect(() => registry.serialize(new Scored({ score: -2, scoredAt: 't' }))).toThrow(InvalidAppendError);
    expect(() => registry.serialize(new ScoredV1())).toThrow(/not registered/);
  });
});
