import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EventRegistry, type StoredEvent } from '@app/event-store';
import { userEvents } from '.';

const goldenDir = join(__dirname, 'golden');
const sample = (type: string, version: number) =>
  JSON.parse(readFileSync(join(goldenDir, `${type}.v${version}.json`), 'utf8')) as {
    data: Record<string, unknown>;
    metadata: Record<string, unknown>;
    expected: Record<string, unknown>;
  };

/**
 * Every schema version of every registered event has a golden sample
 * (golden/<Type>.v<N>.json) and each upcasts to a valid latest event. Adding a
 * version without its upcaster fails at registration; without a sample, here.
 */
describe('golden samples of every event version', () => {
  const registry = new EventRegistry(userEvents);
  const cases = registry.types().flatMap(({ type, version }) => Array.from({ length: version }, (_, i) => [type, i + 1] as const));

  it('covers the three-version PointsAwarded chain', () => {
    expect(cases).toContainEqual(['PointsAwarded', 1]);
    expect(cases).toContainEqual(['PointsAwarded', 3]);
  });

  it.each(cases)('%s v%i upcasts to a valid latest event', (type, version) => {
    const { data, metadata, expected } = sample(type, version);
    const stored: StoredEvent = {
      position: 1,
      streamId: 'user-golden',
      streamVersion: 1,
      eventId: '00000000-0000-4000-8000-000000000001',
      type,
      schemaVersion: version,
      data,
      metadata,
      recordedAt: '2026-01-01T00:00:00.000Z',
    };
    const recorded = registry.upcast(stored);
    expect(recorded.data).toBeInstanceOf(registry.definitionOf(type)!.eventClass);
    expect({ ...(recorded.data as object) }).toEqual(expected);
  });

  it('has no sample for a version that is not registered', () => {
    const known = new Set(cases.map(([t, v]) => `${t}.v${v}.json`));
    expect(readdirSync(goldenDir).filter((f) => !known.has(f))).toEqual([]);
  });
});
