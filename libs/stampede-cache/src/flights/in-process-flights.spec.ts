import { deferred, settle } from '../testing/manual-clock';
import { CacheKey } from '../core/cache-key';
import type { ComputeFlight, FlightOutcome, FlightRequest } from './compute-flight';
import { InProcessFlights } from './in-process-flights';
import { LocalInvalidations } from '../tiers/local-invalidations';
import { resolveEntryOptions } from '../core/options';

/** The in-process half of single flight, with a computation the test finishes by hand. */
describe('InProcessFlights', () => {
  const request = (overrides: Partial<FlightRequest<string>> = {}): FlightRequest<string> => ({
    key: CacheKey.from('k'),
    factory: async () => 'v',
    options: resolveEntryOptions({}),
    label: 'test',
    ...overrides,
  });
  const outcome = (value: string): FlightOutcome => ({
    entry: { value, computedAt: 0, expiresAt: 1, staleUntil: 1, delta: 1, fence: 1 },
    fromStale: false,
  });

  it('a queued computation honours the strictest minimum of every reader that joined it before it started', async () => {
    const runs: Array<{ min?: number; fence?: number; done: ReturnType<typeof deferred<FlightOutcome>> }> = [];
    const compute = {
      run: (r: FlightRequest<unknown>) => {
        const done = deferred<FlightOutcome>();
        runs.push({ min: r.minComputedAt, fence: r.minFence, done });
        return done.promise;
      },
    } as unknown as ComputeFlight;
    let now = 100;
    const flights = new InProcessFlights(
      compute,
      new LocalInvalidations(),
      { now: () => now, setTimer: () => ({ cancel: () => undefined }) },
      () => false,
    );
    flights.start(request()); // running; this instance cannot hear invalidations, so nobody joins it
    const first = flights.start(request()); // queued, no minimum
    now = 200;
    const reader = flights.joinable(request({ minComputedAt: 150, minFence: 150_000 })); // a read-your-writes reader joins the queue
    expect(reader).toBe(first);
    runs[0].done.resolve(outcome('old'));
    await settle();
    expect(runs[1]).toMatchObject({ min: 150, fence: 150_000 }); // not the first queuer's "no minimum"
    runs[1].done.resolve(outcome('new'));
    await expect(first.promise).resolves.toMatchObject({ entry: { value: 'new' } });
  });
});
