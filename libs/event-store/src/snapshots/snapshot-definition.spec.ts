import { EventSourcedAggregate } from '../aggregate/event-sourced-aggregate';
import { EventStoreOptionsError } from '../errors';
import { defineSnapshot, snapshotDefinitionsByClass, type SnapshotDefinition } from './snapshot-definition';

class Tally extends EventSourcedAggregate {
  n = 0;
  get streamId() {
    return 'tally-1';
  }
}
class Other extends EventSourcedAggregate {
  get streamId() {
    return 'other-1';
  }
}

const tally = (overrides: Partial<SnapshotDefinition<Tally, { n: number }>> = {}): SnapshotDefinition<Tally, { n: number }> => ({
  aggregate: Tally,
  name: 'Tally',
  version: 1,
  every: 10,
  take: (t) => ({ n: t.n }),
  restore: (t, s) => void (t.n = s.n),
  ...overrides,
});

describe('defineSnapshot', () => {
  it('accepts a definition, every 0 (off) included', () => {
    expect(defineSnapshot(tally()).name).toBe('Tally');
    expect(defineSnapshot(tally({ every: 0 })).every).toBe(0);
  });

  it.each([
    ['name', { name: '' }, /name must be/],
    ['name', { name: '1abc' }, /name must be/],
    ['version', { version: 0 }, /version must be an integer >= 1/],
    ['version', { version: 1.5 }, /version must be an integer >= 1/],
    ['every', { every: -1 }, /every must be an integer >= 0/],
    ['every', { every: Number.NaN }, /every must be an integer >= 0/],
  ])('refuses a bad %s (%p)', (_field, overrides, message) => {
    expect(() => defineSnapshot(tally(overrides as Partial<SnapshotDefinition<Tally, { n: number }>>))).toThrow(message);
    expect(() => defineSnapshot(tally(overrides as Partial<SnapshotDefinition<Tally, { n: number }>>))).toThrow(EventStoreOptionsError);
  });

  it('allows one definition per aggregate class and per name', () => {
    const other = { ...tally(), aggregate: Other, name: 'Other' } as unknown as SnapshotDefinition;
    expect(snapshotDefinitionsByClass([tally() as unknown as SnapshotDefinition, other]).size).toBe(2);
    expect(() =>
      snapshotDefinitionsByClass([tally() as unknown as SnapshotDefinition, tally({ name: 'Again' }) as unknown as SnapshotDefinition]),
    ).toThrow(/Two snapshot definitions/);
    expect(() => snapshotDefinitionsByClass([tally() as unknown as SnapshotDefinition, { ...other, name: 'Tally' }])).toThrow(
      /Two snapshot definitions/,
    );
  });
});
