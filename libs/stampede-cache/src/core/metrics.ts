import { Counter, Histogram, type Registry } from 'prom-client';

/** Outcome label of `cache_requests_total`; `early_refresh` is a hit that also started a background refresh. */
export type RequestResult = 'hit' | 'stale' | 'miss' | 'early_refresh';

/** A counter child bound to its labels once: `inc()` adds to a plain number, handed to prom-client at scrape time. */
export interface BoundCount {
  inc(): void;
}

/** The `cache_requests_total` children of one `cache` label, one per result. */
export type RequestCounts = Record<RequestResult, BoundCount>;

/** Flushers of every cache sharing a counter, run by its `collect` (so a scrape always sees every pending count). */
const FLUSHERS = Symbol('stampede-cache:flushers');
type FlushedCounter<L extends string> = Counter<L> & { [FLUSHERS]?: Set<() => void> };

/**
 * The library's Prometheus metrics. Metrics already present in the registry (a second
 * cache instance sharing it) are reused, because prom-client refuses duplicate names.
 * `cache_requests_total` is counted on every read, so its children are bound per label once
 * ({@link requestCounts}): a read adds 1 to a number, and prom-client's label hashing runs
 * per scrape, not per request.
 */
export class CacheMetrics {
  readonly requests: Counter<'cache' | 'result'>;
  readonly factoryRuns: Counter<'cache'>;
  readonly lockWaits: Counter<'cache'>;
  readonly factoryErrors: Counter<'cache'>;
  readonly factoryDuration: Histogram<'cache'>;
  readonly eventLoopLag: Histogram;
  readonly redisTimeouts: Counter<'stalled'>;
  private readonly pending = new Map<string, { labels: { cache: string; result: RequestResult }; count: number }>();
  private readonly bound = new Map<string, RequestCounts>();
  private readonly flush = () => {
    for (const child of this.pending.values()) {
      if (child.count === 0) continue;
      this.requests.inc(child.labels, child.count);
      child.count = 0;
    }
  };

  constructor(readonly registry: Registry) {
    this.requests = this.counter('cache_requests_total', 'Cache reads by result (hit, stale, miss, early_refresh)', ['cache', 'result']);
    const requests = this.requests as FlushedCounter<'cache' | 'result'>;
    if (!requests[FLUSHERS]) {
      const flushers = new Set<() => void>();
      requests[FLUSHERS] = flushers;
      (requests as unknown as { collect: () => void }).collect = () => flushers.forEach((flush) => flush());
    }
    requests[FLUSHERS].add(this.flush);
    this.factoryRuns = this.counter('cache_factory_runs_total', 'Factory executions (recomputations)', ['cache']);
    this.lockWaits = this.counter('cache_lock_waits_total', 'Times a caller waited for another instance holding the lock', ['cache']);
    this.factoryErrors = this.counter('cache_factory_errors_total', 'Factory failures and timeouts', ['cache']);
    this.factoryDuration =
      (registry.getSingleMetric('cache_factory_duration_seconds') as Histogram<'cache'> | undefined) ??
      new Histogram({
        name: 'cache_factory_duration_seconds',
        help: 'Factory execution time in seconds',
        labelNames: ['cache'],
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
        registers: [registry],
      });
    this.eventLoopLag = this.histogram(
      'cache_event_loop_lag_seconds',
      'How late the cache timers fired (event-loop lag); Redis timeouts overlapping a stall are not breaker failures',
      [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    );
    this.redisTimeouts = this.counter(
      'cache_redis_timeouts_total',
      'Redis calls with no reply in time (unknown outcome); stalled="true" when the wait overlapped an event-loop stall',
      ['stalled'],
    );
  }

  /** The bound `cache_requests_total` children of a `cache` label (made once per label). */
  requestCounts(cache: string): RequestCounts {
    let counts = this.bound.get(cache);
    if (!counts) {
      const child = (result: RequestResult): BoundCount => {
        const slot = { labels: { cache, result }, count: 0 };
        this.pending.set(`${cache}\u0000${result}`, slot);
        return { inc: () => void (slot.count += 1) };
      };
      counts = { hit: child('hit'), stale: child('stale'), miss: child('miss'), early_refresh: child('early_refresh') };
      this.bound.set(cache, counts);
    }
    return counts;
  }

  /** Hands pending counts to prom-client and stops taking part in scrapes (the cache is closing). */
  detach(): void {
    this.flush();
    (this.requests as FlushedCounter<'cache' | 'result'>)[FLUSHERS]?.delete(this.flush);
  }

  /** How late the cache's timers fired: event-loop lag seen by the cache (a stall is not counted as Redis's silence). */
  private histogram(name: string, help: string, buckets: number[]): Histogram {
    const existing = this.registry.getSingleMetric(name) as Histogram | undefined;
    return existing ?? new Histogram({ name, help, buckets, registers: [this.registry] });
  }

  private counter<L extends string>(name: string, help: string, labelNames: L[]): Counter<L> {
    const existing = this.registry.getSingleMetric(name) as Counter<L> | undefined;
    return existing ?? new Counter({ name, help, labelNames, registers: [this.registry] });
  }
}
