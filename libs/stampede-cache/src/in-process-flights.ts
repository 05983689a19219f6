import type { CacheClock } from './clock';
import type { ComputeFlight, FlightOutcome, FlightRequest } from './compute-flight';
import type { LocalInvalidations } from './local-invalidations';

/** An in-process computation, and what a reader needs to know before joining it. */
export interface Flight {
  promise: Promise<FlightOutcome>;
  startedAt: number;
  /** {@link LocalInvalidations.now} when it started. */
  seq: number;
}

/**
 * The computations running in this process, one per key: the in-process half of single
 * flight. A reader joins the running one unless it started before what the reader accepts,
 * or an invalidation applied here since has superseded it.
 */
export class InProcessFlights {
  private readonly running = new Map<string, Flight>();

  constructor(
    private readonly compute: ComputeFlight,
    private readonly local: LocalInvalidations,
    private readonly clock: CacheClock,
  ) {}

  /** A computation running here that this request may share: not older than it accepts, not superseded by an invalidation. */
  joinable<T>(request: FlightRequest<T>): Flight | undefined {
    const running = this.running.get(request.key.id);
    if (!running) return undefined;
    if (request.minComputedAt !== undefined && running.startedAt < request.minComputedAt) return undefined;
    const tags = typeof request.tags === 'function' ? undefined : (request.tags ?? []);
    return this.local.changedSince(running.seq, request.key.id, tags) ? undefined : running;
  }

  /** Starts the computation for the request's key; later readers of the key join it until it ends. */
  start<T>(request: FlightRequest<T>): Flight {
    const id = request.key.id;
    const flight: Flight = {
      promise: undefined as unknown as Promise<FlightOutcome>,
      startedAt: this.clock.now(),
      seq: this.local.now(),
    };
    flight.promise = this.compute.run(request).finally(() => {
      if (this.running.get(id) === flight) this.running.delete(id);
    });
    this.running.set(id, flight);
    flight.promise.catch(() => undefined); // callers may have timed out; the rejection is theirs to see, not the process's
    return flight;
  }
}
