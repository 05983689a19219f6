import { monotonic, type CacheClock, type CacheTimer } from '../core/clock';

interface PendingInvalidation {
  /** The sender heard its own message back: every heartbeat published before it has been heard too. */
  echoed: boolean;
  /** Instances that must acknowledge, fixed when the echo arrives. */
  expected?: Set<string>;
  acked: Set<string>;
  timer?: CacheTimer;
  settle: (acknowledged: boolean) => void;
}

/**
 * Acknowledgement bookkeeping of {@link CacheFeed}. An instance that might still trust its
 * L1 has heard its own heartbeat within the trust window, and that heartbeat was published
 * before our invalidation (else it would have heard the invalidation first). So once our
 * own message comes back, every such instance is among those whose heartbeat we have heard
 * within the window: waiting for their acknowledgements is enough. The wait is bounded by
 * the window itself, after which an instance that has not applied the invalidation can no
 * longer trust its L1. That argument needs this instance to have been listening for a whole
 * window (else it missed heartbeats): until then, invalidations wait for the bound.
 */
export class FeedAcks {
  private readonly lastHeard = new Map<string, number>();
  private readonly pending = new Map<string, PendingInvalidation>();
  /** Since when this instance has been hearing the channel without a gap (undefined: not now). */
  private listeningSince?: number;

  constructor(
    private readonly clock: CacheClock,
    private readonly windowMs: number,
  ) {}

  /** Instances heard within the window. */
  get peerCount(): number {
    return this.recentPeers().size;
  }

  /** The subscription is live from now on (after start or a gap). */
  listening(): void {
    this.listeningSince = monotonic(this.clock);
  }

  /** The subscription broke: who is out there is unknown until a whole window has been heard again. */
  deaf(): void {
    this.listeningSince = undefined;
  }

  heard(src: string): void {
    this.lastHeard.set(src, monotonic(this.clock));
    if (this.lastHeard.size > 1_000) this.forgetSilent();
  }

  /**
   * Starts waiting for invalidation `msg` (before it is published, so no echo or ack is
   * missed); resolves true on acknowledgements, false on the bound. Call `published` once
   * PUBLISH has returned: the bound runs from there, plus a margin for clock-rate drift.
   */
  expect(msg: string): { promise: Promise<boolean>; published: () => void; cancel: () => void } {
    let settle: (acknowledged: boolean) => void = () => undefined;
    const promise = new Promise<boolean>((resolve) => (settle = resolve));
    const pending: PendingInvalidation = { echoed: false, acked: new Set(), settle };
    this.pending.set(msg, pending);
    const published = () => {
      if (this.pending.get(msg) === pending)
        pending.timer = this.clock.setTimer(() => this.finish(msg, false), this.windowMs + Math.ceil(this.windowMs / 100) + 5);
    };
    return { promise, published, cancel: () => this.finish(msg, false) };
  }

  echoed(msg: string): void {
    const pending = this.pending.get(msg);
    if (!pending) return;
    pending.echoed = true;
    const heardLongEnough = this.listeningSince !== undefined && monotonic(this.clock) - this.listeningSince >= this.windowMs;
    if (!heardLongEnough) return; // peers may exist that we never heard: only the bound is safe
    pending.expected = this.recentPeers();
    this.check(msg, pending);
  }

  acked(msg: string, src: string): void {
    const pending = this.pending.get(msg);
    if (!pending) return;
    pending.acked.add(src);
    this.check(msg, pending);
  }

  stop(): void {
    for (const msg of [...this.pending.keys()]) this.finish(msg, false);
  }

  private check(msg: string, pending: PendingInvalidation): void {
    if (pending.expected && [...pending.expected].every((src) => pending.acked.has(src))) this.finish(msg, true);
  }

  private finish(msg: string, acknowledged: boolean): void {
    const pending = this.pending.get(msg);
    if (!pending) return;
    this.pending.delete(msg);
    pending.timer?.cancel();
    pending.settle(acknowledged);
  }

  private recentPeers(): Set<string> {
    const since = monotonic(this.clock) - this.windowMs;
    return new Set([...this.lastHeard].filter(([, at]) => at >= since).map(([src]) => src));
  }

  private forgetSilent(): void {
    const since = monotonic(this.clock) - this.windowMs;
    for (const [src, at] of this.lastHeard) if (at < since) this.lastHeard.delete(src);
  }
}
