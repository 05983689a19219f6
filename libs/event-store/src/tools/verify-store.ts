import { EventReadError, type EventLocation } from '../errors';
import type { EventStore } from '../postgres/postgres-event-store';
import { plaintextFieldCount } from '../personal-data/sealing';
import type { StoredEvent } from '../types';

/** One event that cannot be read as its latest version. */
export interface VerifyFailure extends EventLocation {
  code: string;
  reason: string;
}

export interface VerifyProgress {
  checked: number;
  failed: number;
  position: number;
  head: number;
  eventsPerSecond: number;
}

export interface VerifyReport {
  checked: number;
  failures: VerifyFailure[];
  /** Failures beyond `maxFailures` are counted but not listed. */
  failureCount: number;
  byType: Record<string, Record<string, number>>;
  /**
   * Declared personal fields still stored as plaintext (events written before encryption, or
   * by a store without a master key); re-encrypt them as docs/operations.md describes.
   */
  plaintextPersonalFields: number;
  durationMs: number;
}

export interface VerifyOptions {
  batchSize?: number;
  /** Called about every `progressEvery` events and once at the end. */
  onProgress?: (progress: VerifyProgress) => void;
  progressEvery?: number;
  /** Stop listing failures after this many (the count goes on). Default 1000. */
  maxFailures?: number;
}

/**
 * Streams the whole log through the upcasters and validators (constant
 * memory) and reports every event that would break a replay, with where it is.
 */
export async function verifyStore(store: EventStore, options: VerifyOptions = {}): Promise<VerifyReport> {
  const started = Date.now();
  const head = await store.headPosition();
  const maxFailures = options.maxFailures ?? 1000;
  const every = options.progressEvery ?? 10_000;
  const report: VerifyReport = { checked: 0, failures: [], failureCount: 0, byType: {}, plaintextPersonalFields: 0, durationMs: 0 };
  let position = 0;
  const progress = () =>
    options.onProgress?.({
      checked: report.checked,
      failed: report.failureCount,
      position,
      head,
      eventsPerSecond: Math.round((report.checked * 1000) / Math.max(1, Date.now() - started)),
    });
  for await (const batch of store.readAllBatches({ batchSize: options.batchSize ?? 2000, toPosition: head })) {
    // A key missing without tombstone, or ciphertext failing authentication, is a failure here, never "erased".
    const revealed = await store.reveal(batch);
    for (let i = 0; i < batch.length; i++) {
      const stored = batch[i];
      position = stored.position;
      report.plaintextPersonalFields += plaintextFields(store, stored);
      report.checked++;
      const versions = (report.byType[stored.type] ??= {});
      const version = versionKey(stored.schemaVersion);
      versions[version] = (versions[version] ?? 0) + 1;
      try {
        store.upcastRevealed(revealed[i]);
      } catch (error) {
        if (!(error instanceof EventReadError)) throw error;
        report.failureCount++;
        if (report.failures.length < maxFailures) {
          report.failures.push({ ...error.location, code: error.code, reason: error.reason });
        }
      }
      if (report.checked % every === 0) progress();
    }
  }
  report.durationMs = Date.now() - started;
  progress();
  return report;
}

const VERSION_KEYS = Array.from({ length: 32 }, (_, v) => `v${v}`);
/** "v3": cached for the usual versions, since verify counts every event. */
const versionKey = (version: number) => VERSION_KEYS[version] ?? `v${version}`;

/** Declared personal fields of a stored event that are plaintext strings. */
function plaintextFields(store: EventStore, stored: StoredEvent): number {
  const fields = store.registry.personalFields(stored.type, stored.schemaVersion);
  return fields ? plaintextFieldCount(stored.data, fields) : 0;
}
