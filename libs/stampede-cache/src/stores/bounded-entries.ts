import { LRUCache } from 'lru-cache';
import type { L1Options } from '../core/options';
import type { CacheEntry } from './cache-store';

/** Rough size of an entry when the caller has no serialised form at hand. */
export function entrySize(entry: CacheEntry, json?: string): number {
  if (json !== undefined) return json.length + 200;
  try {
    return (JSON.stringify(entry.value)?.length ?? 0) + 200;
  } catch {
    return 1_024; // not JSON-serialisable: count it as a small value
  }
}

/**
 * Entries held in process memory, for both in-process levels (the L1 in front of Redis and
 * the memory L2 of L1-only mode), bounded three ways: by count, by bytes (JSON size of the
 * values), and negative results (e.g. "no such user") in an LRU of their own, so a flood of
 * lookups of unknown ids cannot evict the values that matter.
 */
export class BoundedEntries {
  private readonly positive: LRUCache<string, CacheEntry>;
  private readonly negative: LRUCache<string, CacheEntry>;

  constructor(options: Required<Pick<L1Options, 'maxEntries' | 'maxBytes' | 'maxNegativeEntries'>>) {
    this.positive = new LRUCache({ max: options.maxEntries, maxSize: options.maxBytes, sizeCalculation: () => 1 });
    this.negative = new LRUCache({ max: options.maxNegativeEntries });
  }

  get(id: string): CacheEntry | undefined {
    return this.positive.get(id) ?? this.negative.get(id);
  }

  /** Stores `entry`; `size` in bytes (see {@link entrySize}). An entry larger than the byte bound is not kept. */
  set(id: string, entry: CacheEntry, size: number): void {
    if (entry.negative) {
      this.positive.delete(id);
      this.negative.set(id, entry);
    } else {
      this.negative.delete(id);
      if (size > this.positive.maxSize) this.positive.delete(id);
      else this.positive.set(id, entry, { size: Math.max(1, size) });
    }
  }

  delete(id: string): void {
    this.positive.delete(id);
    this.negative.delete(id);
  }

  /** Ids of every entry held. */
  ids(): string[] {
    return [...this.positive.keys(), ...this.negative.keys()];
  }

  clear(): void {
    this.positive.clear();
    this.negative.clear();
  }

  /** Entries and bytes held, for tests and diagnostics. */
  get usage(): { entries: number; negativeEntries: number; bytes: number } {
    return { entries: this.positive.size, negativeEntries: this.negative.size, bytes: this.positive.calculatedSize ?? 0 };
  }
}
