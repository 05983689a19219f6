import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EventReadError, EventRegistry, type StoredEvent } from '@app/event-store';
import fc from 'fast-check';
import { userEvents } from '.';

/**
 * The compiled decoder must be indistinguishable from class-validator on every event this app
 * can meet: same instances (class and fields), same error classes, codes, locations and
 * messages. Checked on every golden sample and on a corpus of invalid variants of each.
 */
const compiled = new EventRegistry(userEvents);
const reference = new EventRegistry(userEvents, { decoding: 'class-validator' });
const goldenDir = join(__dirname, 'golden');
const golden = readdirSync(goldenDir).map((file) => {
  const [, type, version] = /^(\w+)\.v(\d+)\.json$/.exec(file)!;
  const { data, metadata } = JSON.parse(readFileSync(join(goldenDir, file), 'utf8'));
  return { type, version: Number(version), data: data as Record<string, unknown>, metadata };
});

const stored = (type: string, schemaVersion: number, data: unknown, metadata: Record<string, unknown> = {}): StoredEvent => ({
  position: 7,
  streamId: 'user-agreement',
  streamVersion: 2,
  eventId: '00000000-0000-4000-8000-000000000007',
  type,
  schemaVersion,
  data: data as Record<string, unknown>,
  metadata,
  recordedAt: '2026-01-01T00:00:00.000Z',
});

function outcome(registry: EventRegistry, event: StoredEvent) {
  try {
    const recorded = registry.upcast(event);
    return { ok: true, class: (recorded.data as object).constructor, recorded };
  } catch (error) {
    if (!(error instanceof EventReadError)) return { ok: false, threw: String(error) };
    return {
      ok: false,
      class: error.constructor,
      code: error.code,
      message: error.message,
      reason: error.reason,
      location: error.location,
    };
  }
}

function expectAgreement(event: StoredEvent): boolean {
  const expected = outcome(reference, event);
  expect(outcome(compiled, event)).toStrictEqual(expected);
  return expected.ok;
}

/** Values that break one constraint or another of these shapes, or class-transformer's assumptions. */
const HOSTILE: unknown[] = [
  null,
  '',
  ' ',
  '   ',
  'x',
  'x'.repeat(101),
  'x'.repeat(201),
  0,
  -1,
  1.5,
  1_000_001,
  '17',
  true,
  [],
  ['a'],
  {},
  { a: 1 },
  'not-an-email',
  'a@b',
  'jcvd@example.com',
  '2025-02-30T00:00:00.000Z',
  '2025-01-01',
  '2025-01-01T00:00:00.000Z',
  'legacy award',
];
const EXTRA_KEYS = ['extra', 'toString', 'constructor', '__proto__', 'hasOwnProperty'];

/** Every golden sample with each field removed, each field set to each hostile value, and each odd key added. */
function invalidCorpus(): StoredEvent[] {
  const corpus: StoredEvent[] = [];
  for (const { type, version, data, metadata } of golden) {
    for (const field of Object.keys(data)) {
      const { [field]: _removed, ...without } = data;
      corpus.push(stored(type, version, without, metadata));
      for (const value of HOSTILE) corpus.push(stored(type, version, { ...data, [field]: value }, metadata));
    }
    for (const key of EXTRA_KEYS)
      corpus.push(stored(type, version, JSON.parse(`{${JSON.stringify(key)}: 1, ${JSON.stringify(data).slice(1)}`), metadata));
    for (const odd of [null, [], 'text', 42, { nested: { constructor: 'x' } }]) corpus.push(stored(type, version, odd, metadata));
    corpus.push(stored(type, version, data, {}), stored(type, version, data, { occurredAt: 12 }));
  }
  return corpus;
}

describe('compiled decoding agrees with class-validator', () => {
  it.each(golden.map((g) => [`${g.type} v${g.version}`, g] as const))('golden sample %s', (_name, g) => {
    expect(expectAgreement(stored(g.type, g.version, g.data, g.metadata))).toBe(true);
  });

  it('on a systematic corpus of invalid variants of every golden sample', () => {
    const corpus = invalidCorpus();
    const verdicts = corpus.map(expectAgreement);
    expect(corpus.length).toBeGreaterThan(350); // 6 samples x (fields x (1 + 24 values)) + odd keys and shapes
    expect(verdicts.filter((ok) => !ok).length).toBeGreaterThan(corpus.length / 2); // mostly invalid, as intended
  });

  it('on generated variants (fast-check)', () => {
    const sample = fc.constantFrom(...golden);
    const variant = sample.chain((g) =>
      fc.record({
        g: fc.constant(g),
        changes: fc.dictionary(
          fc.constantFrom(...Object.keys(g.data), ...EXTRA_KEYS),
          fc.oneof(fc.constantFrom(...HOSTILE), fc.jsonValue()),
          { maxKeys: 3 },
        ),
      }),
    );
    fc.assert(
      fc.property(variant, ({ g, changes }) => {
        const data = JSON.parse(JSON.stringify({ ...g.data, ...changes }));
        expectAgreement(stored(g.type, g.version, data, g.metadata));
      }),
      { numRuns: 1000 },
    );
  });
});
