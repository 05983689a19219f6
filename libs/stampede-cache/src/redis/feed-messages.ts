/** A message on the namespace's channel; `src` is the sending instance. */
export type FeedMessage =
  /** A value was written: lock waiters wake, older L1 copies elsewhere are dropped. */
  | { k: 'written'; src: string; id: string; fence: number }
  /** The lock holder's factory failed: waiters answer at once (stale or the error) instead of waiting out the lock. */
  | { k: 'failed'; src: string; id: string; reason: string; code?: string }
  /** The lock holder released the lock without a new value (it found one, or its write was fenced out): try the lock now. */
  | { k: 'released'; src: string; id: string }
  /** `invalidate(id)`: the entry is gone and values fenced before `fence` may not come back. Acknowledged. */
  | { k: 'deleted'; src: string; id: string; fence: number; msg: string }
  /** `invalidateTags`: the tags' new versions. Acknowledged. */
  | { k: 'tags'; src: string; versions: Record<string, number>; msg: string }
  /** Heartbeat: an instance that hears its own knows it has heard everything published before it. */
  | { k: 'hb'; src: string; seq: number }
  /** An instance applied invalidation `of`. */
  | { k: 'ack'; src: string; of: string };

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** A message as its sender builds it (the feed adds `src`). */
export type OutgoingMessage = DistributiveOmit<FeedMessage, 'src'>;

/** What a lock waiter learns about a key. */
export type KeySignal =
  { kind: 'written'; fence: number } | { kind: 'failed'; reason: string; code?: string } | { kind: 'released' } | { kind: 'timeout' };

const KINDS = new Set(['written', 'failed', 'released', 'deleted', 'tags', 'hb', 'ack']);

/** Parses a message; anything else on the channel (someone else's garbage) is ignored. */
export function parseFeedMessage(raw: string): FeedMessage | undefined {
  try {
    const message = JSON.parse(raw) as FeedMessage;
    return message && typeof message === 'object' && typeof message.src === 'string' && KINDS.has(message.k) ? message : undefined;
  } catch {
    return undefined;
  }
}

/** An invalidation as its sender builds it. */
export type InvalidationMessage = Extract<OutgoingMessage, { k: 'deleted' | 'tags' }>;
