import type { Logger } from '@nestjs/common';
import type { Cluster, Redis } from 'ioredis';
import { monotonic, type CacheClock, type CacheTimer } from '../core/clock';
import { FeedAcks } from './feed-acks';
import { parseFeedMessage, type FeedMessage, type OutgoingMessage } from './feed-messages';

/**
 * Events of an ioredis Cluster about its sharded subscribers (`ClusterSubscriberGroup`): a
 * subscriber added, removed, failing or re-subscribed. Each may have lost messages: a gap.
 */
const SHARDED_GAP_EVENTS = ['-subscriber', '+subscriber', 'subscribersReady', 'nodeError'];

/** What the feed tells its owner. */
export interface FeedHandlers {
  /** A message from another instance (invalidations are acknowledged after this returns). */
  onMessage(message: FeedMessage): void;
  /** The subscription broke or came back: invalidations may have been missed. */
  onGap(): void;
}

/**
 * Cross-instance notifications over Redis pub/sub, one channel per namespace (sharded
 * pub/sub on a Cluster, so that every message passes through one node and all instances
 * see one order).
 *
 * Trust: every instance publishes a heartbeat every `trustWindowMs / 3`. Messages on one
 * channel arrive in publish order, so an instance that hears its own heartbeat sent at
 * time t has heard every invalidation published before t. It trusts its L1 only while
 * that t is less than `trustWindowMs` old; a lost connection, a dead subscriber or a
 * stalled socket therefore stops L1 hits within `trustWindowMs`.
 *
 * Invalidations are acknowledged: {@link expectAcks} resolves once every instance
 * heard within the window has applied it, or after `trustWindowMs` at the latest, when any
 * instance that has not applied it can no longer trust its L1.
 */
export class CacheFeed {
  /** Monotonic send time of each own heartbeat not yet heard back; `undefined` once its PUBLISH was refused (never sent). */
  private readonly heartbeatSentAt = new Map<number, number | undefined>();
  private readonly acks: FeedAcks;
  private heardUpTo = Number.NEGATIVE_INFINITY;
  private heartbeatSeq = 0;
  private heartbeatTimer?: CacheTimer;
  private stopped = false;
  private readonly sharded: boolean;
  private readonly onRaw = (channel: string, raw: string) => {
    if (channel === this.channel) this.receive(raw);
  };
  // ioredis emits `ready` before it has re-subscribed: trust returns only with the first own heartbeat heard (see heard()).
  private readonly onReady = () => this.gap();
  private readonly onClose = () => this.gap();

  constructor(
    private readonly publisher: Redis | Cluster,
    private readonly subscriber: Redis | Cluster,
    private readonly channel: string,
    readonly instanceId: string,
    private readonly clock: CacheClock,
    private readonly trustWindowMs: number,
    private readonly handlers: FeedHandlers,
    private readonly logger: Logger,
    /** How late a heartbeat timer fired (event-loop lag, ms). */
    private readonly onLag: (lagMs: number) => void = () => undefined,
    /** Redis answered a heartbeat's PUBLISH: it is reachable (an open breaker may close, owed invalidations replay). */
    private readonly onAnswered: () => void = () => undefined,
  ) {
    this.sharded = (publisher as Cluster).isCluster === true;
    this.acks = new FeedAcks(clock, trustWindowMs);
  }

  /** Subscribes and starts heartbeats; bounded so start-up does not hang while Redis is down. */
  async start(timeoutMs: number): Promise<void> {
    this.subscriber.on(this.sharded ? 'smessage' : 'message', this.onRaw);
    this.subscriber.on('ready', this.onReady);
    this.subscriber.on('close', this.onClose);
    // A Cluster's sharded subscribers reconnect on their own: these are the events it re-emits for them.
    if (this.sharded) for (const event of SHARDED_GAP_EVENTS) this.subscriber.on(event, this.onClose);
    const subscribe = this.sharded ? this.subscriber.ssubscribe(this.channel) : this.subscriber.subscribe(this.channel);
    const subscribed = subscribe.then(
      () => true,
      () => false,
    );
    const timedOut = new Promise<boolean>((resolve) => this.clock.setTimer(() => resolve(false), timeoutMs));
    this.beat();
    if (!(await Promise.race([subscribed, timedOut]))) {
      this.logger.warn(`Not yet subscribed to ${this.channel}; L1 and cross-instance invalidation start once Redis answers`);
    }
  }

  stop(): void {
    this.stopped = true;
    this.heartbeatTimer?.cancel();
    this.subscriber.off(this.sharded ? 'smessage' : 'message', this.onRaw);
    this.subscriber.off('ready', this.onReady);
    this.subscriber.off('close', this.onClose);
    if (this.sharded) for (const event of SHARDED_GAP_EVENTS) this.subscriber.off(event, this.onClose);
    this.acks.stop();
  }

  /** True while this instance has heard its own heartbeat within the trust window. */
  trusted(): boolean {
    return monotonic(this.clock) - this.heardUpTo < this.trustWindowMs;
  }

  /** Other instances heard within the trust window. */
  get peerCount(): number {
    return this.acks.peerCount;
  }

  /** Publishes an event originating here; rejects on Redis errors (the caller's circuit breaker decides). */
  async publish(message: OutgoingMessage): Promise<void> {
    const raw = JSON.stringify({ ...message, src: this.instanceId });
    await (this.sharded ? this.publisher.spublish(this.channel, raw) : this.publisher.publish(this.channel, raw));
  }

  /**
   * Starts collecting acknowledgements of invalidation `msg`, before it is published so no
   * echo or ack is missed. Call `published()` once PUBLISH returned; `promise` resolves true
   * once every instance heard within the trust window has applied it, false after the window.
   */
  expectAcks(msg: string): { promise: Promise<boolean>; published: () => void; cancel: () => void } {
    return this.acks.expect(msg);
  }

  private receive(raw: string): void {
    const message = parseFeedMessage(raw);
    if (!message) return;
    const mine = message.src === this.instanceId;
    if (message.k === 'hb') return this.heard(message.seq, message.src, mine);
    if (message.k === 'ack') return void (mine || this.acks.acked(message.of, message.src));
    if (mine) {
      if (message.k === 'deleted' || message.k === 'tags') this.acks.echoed(message.msg);
      return;
    }
    this.handlers.onMessage(message);
    if (message.k === 'deleted' || message.k === 'tags') {
      this.publish({ k: 'ack', of: message.msg }).catch(() => undefined); // the sender's bound covers a lost ack
    }
  }

  /**
   * Hearing its own heartbeat tells this instance that its subscription carries every message
   * published since. The first one heard after start, after a gap, after a lost heartbeat
   * (its PUBLISH was not refused, yet it never came back: the subscription dropped messages,
   * e.g. a Cluster subscriber that reconnected unseen) is itself a gap:
   * what L1 took while this instance could not hear (before the subscription was confirmed)
   * is dropped, and trust starts from this heartbeat.
   */
  private heard(seq: number, src: string, mine: boolean): void {
    if (!mine) return this.acks.heard(src);
    if (!this.heartbeatSentAt.has(seq)) return;
    const sentAt = this.heartbeatSentAt.get(seq) as number;
    let lost = false;
    for (const [old, at] of this.heartbeatSentAt) {
      if (old > seq) break;
      if (old < seq && at !== undefined) lost = true;
      this.heartbeatSentAt.delete(old);
    }
    // A lapse of trust alone (this process stalled) loses nothing: the socket kept the messages, in order.
    if (lost || this.heardUpTo === Number.NEGATIVE_INFINITY) {
      this.gap();
      this.acks.listening();
    }
    this.heardUpTo = Math.max(this.heardUpTo, sentAt);
  }

  private beat(): void {
    if (this.stopped) return;
    const seq = (this.heartbeatSeq += 1);
    this.heartbeatSentAt.set(seq, monotonic(this.clock));
    if (this.heartbeatSentAt.size > 100) this.heartbeatSentAt.delete(this.heartbeatSentAt.keys().next().value as number);
    // A refused PUBLISH was never sent: not hearing it back is no sign of a lost message.
    this.publish({ k: 'hb', seq }).then(this.onAnswered, () => this.heartbeatSentAt.has(seq) && this.heartbeatSentAt.set(seq, undefined));
    const period = Math.max(1, Math.floor(this.trustWindowMs / 3));
    const due = monotonic(this.clock) + period;
    this.heartbeatTimer = this.clock.setTimer(() => {
      this.onLag(Math.max(0, monotonic(this.clock) - due));
      this.beat();
    }, period);
  }

  private gap(): void {
    this.acks.deaf();
    this.heardUpTo = Number.NEGATIVE_INFINITY;
    this.handlers.onGap();
  }
}
