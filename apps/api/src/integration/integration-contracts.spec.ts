import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EventRegistry, type StoredEvent } from '@app/event-store';
import { userEvents } from '../users/events';
import { INTEGRATION_CONTRACTS } from './integration-contracts';
import { integrationHeaders } from './integration-headers';

const goldenDir = join(__dirname, '../users/events/golden');
const USER_ID = '6f1c2d3e-0000-4000-8000-000000000042';

/** Every golden sample of every stored version, as a stored event of one user. */
function goldenEvents(): StoredEvent[] {
  return readdirSync(goldenDir).map((file, i) => {
    const [type, version] = file.replace(/\.json$/, '').split('.v');
    const { data, metadata } = JSON.parse(readFileSync(join(goldenDir, file), 'utf8')) as StoredEvent;
    return {
      position: i + 1,
      streamId: `user-${USER_ID}`,
      streamVersion: i + 1,
      eventId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      type,
      schemaVersion: Number(version),
      data,
      metadata: { ...metadata, correlationId: 'corr-1', causationId: 'http:req-1' },
      recordedAt: '2026-01-01T00:00:00.000Z',
    };
  });
}

/**
 * Integration contracts are mapped from the latest upcast event of every stored version (so a
 * new stored version never changes them), carry no personal data, and every message gets the
 * documented headers.
 */
describe('integration contracts', () => {
  const registry = new EventRegistry(userEvents);
  const byType = new Map(INTEGRATION_CONTRACTS.map((c) => [c.type, c]));

  it('publish only registered types, once each, with subject-safe tokens', () => {
    const registered = registry.types().map((t) => t.type);
    expect(INTEGRATION_CONTRACTS.map((c) => c.type).filter((t) => !registered.includes(t))).toEqual([]);
    expect(new Set(byType.keys()).size).toBe(INTEGRATION_CONTRACTS.length);
    for (const c of INTEGRATION_CONTRACTS) expect(`${c.streamType}.${c.type}`).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
  });

  it.each(goldenEvents().map((e) => [`${e.type} v${e.schemaVersion}`, e] as const))('%s maps to ids and facts only', (_name, stored) => {
    const contract = byType.get(stored.type)!;
    const payload = contract.toPayload(registry.upcast(stored));
    expect(payload.userId).toBe(USER_ID);
    const text = JSON.stringify(payload);
    const data = stored.data;
    for (const field of ['email', 'fullName', 'firstName', 'lastName', 'reason']) {
      if (typeof data[field] === 'string') expect(text).not.toContain(data[field]);
    }
    expect(Object.keys(payload).every((k) => ['userId', 'points', 'awardedAt'].includes(k))).toBe(true);
  });

  it('headers carry the event, its position and its ids; a malformed traceparent is dropped', () => {
    const [stored] = goldenEvents();
    const event = registry.upcast({
      ...stored,
      metadata: { ...stored.metadata, traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
    });
    const headers = integrationHeaders(event, byType.get(stored.type)!);
    expect(headers).toEqual({
      'Event-Id': stored.eventId,
      'Event-Type': stored.type,
      'Event-Contract-Version': '1',
      'Event-Stream-Id': `user-${USER_ID}`,
      'Event-Stream-Version': '1',
      'Event-Position': '1',
      'Event-Recorded-At': '2026-01-01T00:00:00.000Z',
      'Correlation-Id': 'corr-1',
      'Causation-Id': 'http:req-1',
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    });
    const bad = registry.upcast({ ...stored, metadata: { traceparent: 'not\r\na header' } });
    expect(integrationHeaders(bad, byType.get(stored.type)!)).not.toHaveProperty('traceparent');
  });
});
