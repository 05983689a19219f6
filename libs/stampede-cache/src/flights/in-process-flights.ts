import type { CacheClock } from '../core/clock';
import type { ComputeFlight, FlightOutcome, FlightRequest } from './compute-flight';
import type { LocalInvalidations } from '../tiers/local-invalidations';

/** An in-process computation, and what a reader needs to know before joining it. */
export interface Flight {
  promise: Promise<FlightOutcome>;
  /** Wall clock when it started (compared with `minComputedAt` of readers of this process); undefined while queued. */
  startedAt?: number;
  /** {@link LocalInvalidations.now} when it started. */
  seq: number;
}

interface KeyFlights {
  current: Flight;
  /** Queued behind `current`: starts when it ends, so it starts after every reader that joined it arrived. */
  next?: Flight;
  /** The queued flight's request: it takes the strictest minimum of every reader that joins it before it starts. */
  nextRequest?: FlightRequest<unknown>;
}

/**
 * The computations running in this process: the in-process half of single flight, with at
 * most one computation per key at a time whatever the mix of readers. A reader joins the
 * running computation unless it started before what the reader accepts (`minComputedAt`,
 * read-your-writes), an invalidation applied here since superseded it, or this instance
 * cannot hear invalidations now (`trusted()` false: it could not know of one). Such a reader
 * joins the computation queued behind it instead, which starts only when the running one
 * ends, so it necessarily starts after the reader arrived: N concurrent read-your-writes
 * readers cost at most two computations, one after the other, never N. A computation that
 * an invalidation superseded is not waited for: its result will not be cached, so the next
 * one starts at once (and the superseded holder gives up the Redis lock, see ComputeFlight).
 */
export class InProcessFlights {
  private readonly running = new Map<string, KeyFlights>();

  constructor(
    private readonly compute: ComputeFlight,
    private readonly local: LocalInvalidations,
    private readonly clock: CacheClock,
    private readonly trusted: () => boolean = () => true,
  ) {}

  /** A computation of the request's key, running or queued, that this request may share. */
  joinable<T>(request: FlightRequest<T>): Flight | undefined {
    const flights = this.running.get(request.key.id);
    if (!flights) return undefined;
    if (this.sharable(flights.current, request)) return flights.current;
    return flights.next ? this.joinQueued(flights, request) : undefined;
  }

  /** Joins the queued flight, which must then satisfy this reader's minimum too (read-your-writes). */
  private joinQueued<T>(flights: KeyFlights, request: FlightRequest<T>): Flight {
    const queued = flights.nextRequest;
    if (queued && request.minComputedAt !== undefined) {
      const fences = queued.minComputedAt === undefined || queued.minFence !== undefined;
      queued.minFence = fences && request.minFence !== undefined ? Math.max(queued.minFence ?? -Infinity, request.minFence) : undefined;
      queued.minComputedAt = Math.max(queued.minComputedAt ?? -Infinity, request.minComputedAt);
    }
    return flights.next as Flight;
  }

  /** Whether a computation of the key runs (or is queued) here, joinable or not. */
  busy(id: string): boolean {
    return this.running.has(id);
  }

  /** Starts a computation for the request's key, or queues one behind the running one (or joins the queued one). */
  start<T>(request: FlightRequest<T>): Flight {
    const id = request.key.id;
    const flights = this.running.get(id);
    if (!flights) {
      const flight: Flight = { promise: undefined as unknown as Promise<FlightOutcome>, seq: 0 };
      flight.promise = this.run(request, flight);
      this.running.set(id, { current: flight });
      return flight;
    }
    if (flights.next) return this.joinQueued(flights, request);
    if (this.invalidated(flights.current, request)) {
      // An invalidation made the running computation useless (its result is not cached): do not wait for it.
      const flight: Flight = { promise: undefined as unknown as Promise<FlightOutcome>, seq: 0 };
      flight.promise = this.run(request, flight);
      flights.current = flight;
      return flight;
    }
    const queued: Flight = { promise: undefined as unknown as Promise<FlightOutcome>, seq: 0 };
    const own = { ...request } as FlightRequest<unknown>;
    flights.nextRequest = own;
    queued.promise = flights.current.promise
      .catch(() => undefined)
      .then(() => {
        flights.current = queued;
        flights.next = undefined;
        flights.nextRequest = undefined;
        return this.run(own as FlightRequest<T>, queued);
      });
    queued.promise.catch(() => undefined); // callers may have timed out; the rejection is theirs to see
    flights.next = queued;
    return queued;
  }

  private sharable<T>(flight: Flight, request: FlightRequest<T>): boolean {
    if (flight.startedAt === undefined) return true; // queued: it will start after this reader arrived
    if (!this.trusted()) return false;
    if (request.minComputedAt !== undefined && flight.startedAt < request.minComputedAt) return false;
    return !this.superseded(flight, request);
  }

  /** An invalidation of the key or of one of its tags was applied here after the flight started: its result is useless. */
  private invalidated<T>(flight: Flight, request: FlightRequest<T>): boolean {
    if (flight.startedAt === undefined) return false;
    const tags = typeof request.tags === 'function' ? undefined : (request.tags ?? []);
    return this.local.invalidatedSince(flight.seq, request.key.id, tags);
  }

  /** An invalidation of the key or of one of its tags, or a reset (a gap), was applied here after the flight started. */
  private superseded<T>(flight: Flight, request: FlightRequest<T>): boolean {
    if (flight.startedAt === undefined) return false;
    const tags = typeof request.tags === 'function' ? undefined : (request.tags ?? []);
    return this.local.changedSince(flight.seq, request.key.id, tags);
  }

  /** Runs the computation as `flight` from now on; the key's record goes when the last queued one ends. */
  private run<T>(request: FlightRequest<T>, flight: Flight): Promise<FlightOutcome> {
    const id = request.key.id;
    flight.startedAt = this.clock.now();
    flight.seq = this.local.now();
    const run = this.compute.run(request).finally(() => {
      const flights = this.running.get(id);
      if (flights?.current === flight && !flights.next) this.running.delete(id);
    });
    run.catch(() => undefined); // callers may have timed out; the rejection is theirs to see, not the process's
    return run;
  }
}
