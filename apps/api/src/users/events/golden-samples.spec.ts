import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EventRegistry, type StoredEvent } from '@app/event-store';
import { personalDataOf } from '@app/event-store/testing';
import { userEvents } from '.';

const goldenDir = join(__dirname, 'golden');
const sample = (type: string, version: number) =>
  JSON.parse(readFileSync(join(goldenDir, `${type}.v${version}.json`), 'utf8')) as {
    data: Record<string, unknown>;
    metadata: Record<string, unknown>;
    expected: Record<string, unknown>;
    /** The sample's personal fields as stored encrypted with GOLDEN_KEY (bound to GOLDEN_EVENT_ID). */
    encrypted?: Record<string, unknown>;
    /** What the latest event reads once its person is erased (their key deleted). */
    erasedExpected?: Record<string, unknown>;
  };

/** The data key the encrypted variants were sealed with, and the event id bound into them. */
const GOLDEN_KEY = Buffer.alloc(32, 0x42);
const GOLDEN_EVENT_ID = '00000000-0000-4000-8000-000000000001';

/**
 * Every schema version of every registered event has a golden sample
 * (golden/<Type>.v<N>.json) and each upcasts to a valid latest event. Adding a
 * version without its upcaster fails at registration; without a sample, here.
 */
const storedOf = (type: string, version: number, data: Record<string, unknown>, metadata: Record<string, unknown>): StoredEvent => ({
  position: 1,
  streamId: 'user-golden',
  streamVersion: 1,
  eventId: GOLDEN_EVENT_ID,
  type,
  schemaVersion: version,
  data,
  metadata,
  recordedAt: '2026-01-01T00:00:00.000Z',
});

describe('golden samples of every event version', () => {
  const registry = new EventRegistry(userEvents, { requirePersonalData: true });
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

  const personal = cases.filter(([type, version]) => registry.personalFields(type, version));

  it('has an encrypted and an erased variant for every version with personal fields', () => {
    expect(personal.length).toBeGreaterThanOrEqual(5);
    for (const [type, version] of personal)
      expect(Object.keys(sample(type, version))).toEqual(expect.arrayContaining(['encrypted', 'erasedExpected']));
  });

  it.each(personal)('%s v%i encrypted: stored ciphertext decrypts, upcasts and validates to the same event', async (type, version) => {
    const { data, metadata, expected, encrypted } = sample(type, version);
    expect(JSON.stringify(encrypted)).not.toMatch(/example\.com|Jean|Ada|quiz|bonus/i);
    const stored = storedOf(type, version, { ...data, ...encrypted }, metadata);
    const [revealed] = await personalDataOf(registry, stored.streamId, { key: GOLDEN_KEY }).reveal([stored]);
    expect({ ...(registry.upcast(revealed as StoredEvent).data as object) }).toEqual(expected);
  });

  it.each(personal)('%s v%i erased: the markers upcast and validate to the declared erased event', async (type, version) => {
    const { data, metadata, encrypted, erasedExpected } = sample(type, version);
    const stored = storedOf(type, version, { ...data, ...encrypted }, metadata);
    const [revealed] = await personalDataOf(registry, stored.streamId, { erased: true }).reveal([stored]);
    expect({ ...(registry.upcast(revealed as StoredEvent).data as object) }).toEqual(erasedExpected);
    // Missing without a tombstone is never "erased".
    const [lost] = await personalDataOf(registry, stored.streamId, { missing: true }).reveal([stored]);
    expect(lost).toMatchObject({ code: 'EVENT_STORE.PERSONAL_DATA_UNREADABLE' });
  });

  it('has no sample for a version that is not registered', () => {
    const known = new Set(cases.map(([t, v]) => `${t}.v${v}.json`));
    expect(readdirSync(goldenDir).filter((f) => !known.has(f))).toEqual([]);
  });
});
