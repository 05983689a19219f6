import type { Logger } from '@nestjs/common';
import type { Cluster, Redis } from 'ioredis';

/** A message on the namespace's channel; `src` is the sending instance. */
export type CacheEvent =
  | { src: string; kind: 'written'; id: string }
  | { src: string; kind: 'deleted'; id: string }
  | { src: string; kind: 'tags'; tags: string[] };

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/**
 * Cross-instance notifications over Redis pub/sub, one channel per namespace:
 * `written` tells lock losers the fresh value is in Redis (so they wait without
 * polling) and tells every other instance to drop its L1 copy; `deleted` and `tags`
 * drop L1 copies after invalidation. Pub/sub is fire-and-forget: a message missed during
 * an outage is covered by L1 being cleared when the circuit breaker recovers.
 */
export class CacheEvents {
  private readonly waiters = new Map<string, Set<() => void>>();
  private readonly onMessage = (channel: string, message: string) => this.receive(channel, message);

  constructor(
    private readonly publisher: Redis | Cluster,
    private readonly subscriber: Redis | Cluster,
    private readonly channel: string,
    private readonly instanceId: string,
    private readonly onRemoteEvent: (event: CacheEvent) => void,
    private readonly logger: Logger,
  ) {}

  /** Subscribes; bounded so start-up does not hang while Redis is down (ioredis subscribes on reconnect). */
  async start(timeoutMs: number): Promise<void> {
    this.subscriber.on('message', this.onMessage);
    const subscribed = this.subscriber.subscribe(this.channel).then(() => true, () => false);
    const timedOut = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), timeoutMs).unref());
    if (!(await Promise.race([subscribed, timedOut]))) {
      this.logger.warn(`Not yet subscribed to ${this.channel}; cross-instance invalidation starts once Redis answers`);
    }
  }

  stop(): void {
    this.subscriber.off('message', this.onMessage);
    for (const wake of [...this.waiters.values()].flatMap((set) => [...set])) wake();
    this.waiters.clear();
  }

  /**
   * Registers interest in the next `written` event for `id` before the caller re-checks
   * the store, so a write landing between check and wait is never missed.
   * `promise` resolves true on the event, false after `timeoutMs`.
   */
  waitForWrite(id: string, timeoutMs: number): { promise: Promise<boolean>; cancel: () => void } {
    let wake: (written: boolean) => void = () => undefined;
    const promise = new Promise<boolean>((resolve) => {
      wake = resolve;
    });
    const set = this.waiters.get(id) ?? new Set<() => void>();
    this.waiters.set(id, set);
    const onWritten = () => wake(true);
    set.add(onWritten);
    const timer = setTimeout(() => wake(false), timeoutMs);
    timer.unref();
    const cancel = () => {
      clearTimeout(timer);
      set.delete(onWritten);
      if (set.size === 0 && this.waiters.get(id) === set) this.waiters.delete(id);
    };
    promise.finally(cancel).catch(() => undefined);
    return { promise, cancel };
  }

  /** Publishes an event originating here; rejects on Redis errors (the caller's circuit breaker decides). */
  async publish(event: DistributiveOmit<CacheEvent, 'src'>): Promise<void> {
    await this.publisher.publish(this.channel, JSON.stringify({ ...event, src: this.instanceId }));
  }

  private receive(channel: string, message: string): void {
    if (channel !== this.channel) return;
    let event: CacheEvent;
    try {
      event = JSON.parse(message) as CacheEvent;
    } catch {
      return; // someone else's garbage on our channel must not break the cache
    }
    if (event.src === this.instanceId) return;
    if (event.kind === 'written') for (const wake of this.waiters.get(event.id) ?? []) wake();
    this.onRemoteEvent(event);
  }
}
