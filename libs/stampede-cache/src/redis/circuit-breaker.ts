import { systemClock, type CacheClock } from '../core/clock';

/** State of the Redis circuit breaker; `disabled` when there is no Redis (L1-only mode). */
export type CircuitState = 'closed' | 'open' | 'half-open' | 'disabled';

/**
 * Guards Redis (L2) calls so that Redis failures never surface as errors to readers.
 * After `failureThreshold` consecutive failures it opens: calls are skipped and answer
 * their fallback at once instead of each waiting for a timeout. After `resetTimeoutMs`
 * one probe call is let through (half-open); its success closes the breaker.
 */
export class CircuitBreaker {
  private failures = 0;
  private openedAt = 0;
  private probing = false;
  private current: Exclude<CircuitState, 'disabled'> = 'closed';

  constructor(
    private readonly failureThreshold = 5,
    /** Open time before one probe is let through. */
    readonly resetTimeoutMs = 5_000,
    /** Called when the breaker closes after having been open, e.g. to drop L1 copies that missed invalidations. */
    private readonly onRecovered: () => void = () => undefined,
    private readonly clock: CacheClock = systemClock,
  ) {}

  get state(): CircuitState {
    if (this.current === 'open' && this.clock.now() - this.openedAt >= this.resetTimeoutMs) return 'half-open';
    return this.current;
  }

  /** Runs `operation`, or answers `fallback` when the breaker is open or the operation fails. */
  async run<T>(operation: () => Promise<T>, fallback: T): Promise<T> {
    const pass = this.enter();
    if (pass === 'skip') return fallback;
    try {
      const result = await operation();
      this.succeeded(pass);
      return result;
    } catch {
      this.failed(pass);
      return fallback;
    }
  }

  /**
   * Asks to make one call: `skip` when Redis is known to be unreachable (open, or another
   * call is already probing), else `call` or `probe`. Settle every entered call once with
   * {@link succeeded}, {@link failed} or {@link abandoned}.
   */
  enter(): 'skip' | 'call' | 'probe' {
    const state = this.state;
    if (state === 'open' || (state === 'half-open' && this.probing)) return 'skip';
    if (state !== 'half-open') return 'call';
    this.probing = true;
    return 'probe';
  }

  succeeded(pass: 'call' | 'probe'): void {
    if (pass === 'probe') this.probing = false;
    this.recordSuccess();
  }

  failed(pass: 'call' | 'probe'): void {
    if (pass === 'probe') this.probing = false;
    this.recordFailure(pass === 'probe');
  }

  /**
   * Redis answered a call made outside the breaker (a heartbeat, the pending-invalidation
   * probe): the same as a success, so an open breaker closes at once instead of at its next probe.
   */
  answered(): void {
    this.recordSuccess();
  }

  /** The call's outcome says nothing about Redis (e.g. this process stalled): neither a success nor a failure. */
  abandoned(pass: 'call' | 'probe'): void {
    if (pass === 'probe') this.probing = false;
  }

  private recordSuccess(): void {
    const wasOpen = this.current !== 'closed';
    this.failures = 0;
    this.current = 'closed';
    if (wasOpen) this.onRecovered();
  }

  private recordFailure(isProbe: boolean): void {
    this.failures += 1;
    if (isProbe || this.failures >= this.failureThreshold) {
      this.current = 'open';
      this.openedAt = this.clock.now();
    }
  }
}
