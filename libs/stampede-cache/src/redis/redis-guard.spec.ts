import { deferred, ManualClock, settle } from '../testing/manual-clock';
import { CircuitBreaker } from './circuit-breaker';
import { NotARedisFailure, RedisGuard, type RedisGuardHooks } from './redis-guard';

/** A timeout measures Redis's silence, not this process's stalls; an unknown outcome is never a success. */
describe('RedisGuard', () => {
  let clock: ManualClock;
  let breaker: CircuitBreaker;
  let guard: RedisGuard;
  let hooks: { [K in keyof RedisGuardHooks]: jest.Mock };

  beforeEach(() => {
    clock = new ManualClock();
    breaker = new CircuitBreaker(1, 1_000, undefined, clock);
    hooks = { onSuccess: jest.fn(), onLag: jest.fn(), onTimeout: jest.fn() };
    guard = new RedisGuard(breaker, 500, 5_000, clock, hooks);
  });

  it('lets a reply that arrived during a stall win over the late timer, and reports the lag', async () => {
    const reply = deferred<string>();
    const call = guard.run(() => reply.promise);
    clock.stall(700); // the event loop is blocked 700 ms right after the command was sent
    clock.fireDue(); // timer phase: the 500 ms timer fires 200 ms late
    reply.resolve('not acquired'); // poll phase: the reply that waited in the socket is read
    await settle();
    await expect(call).resolves.toEqual({ ok: true, value: 'not acquired' });
    expect(hooks.onLag).toHaveBeenCalledWith(200);
    expect(hooks.onTimeout).not.toHaveBeenCalled();
  });

  it('extends the wait by the stalled time, and a timeout that overlapped a stall does not open the breaker', async () => {
    const call = guard.run(() => new Promise<never>(() => undefined));
    clock.stall(700);
    clock.fireDue();
    await settle();
    expect(await Promise.race([call.then(() => 'settled'), Promise.resolve('pending')])).toBe('pending');
    await clock.advance(200); // Redis's silence since the stall ended: another 200 ms
    await expect(call).resolves.toMatchObject({ ok: false, reason: 'unknown' });
    expect(hooks.onTimeout).toHaveBeenCalledWith(true);
    expect(breaker.state).toBe('closed');
  });

  it('a timeout with no stall is an unknown outcome and a breaker failure; then Redis is known unreachable', async () => {
    const call = guard.run(() => new Promise<never>(() => undefined));
    await clock.advance(500);
    await expect(call).resolves.toMatchObject({ ok: false, reason: 'unknown' });
    expect(hooks.onTimeout).toHaveBeenCalledWith(false);
    expect(breaker.state).toBe('open');
    const skipped = jest.fn(async () => 'x');
    await expect(guard.run(skipped)).resolves.toEqual({ ok: false, reason: 'unreachable' });
    expect(skipped).not.toHaveBeenCalled();
  });

  it('does not count an error about the value (serialisation) as a Redis failure', async () => {
    await expect(guard.run(() => Promise.reject(new NotARedisFailure('cyclic')))).resolves.toMatchObject({ ok: false });
    expect(breaker.state).toBe('closed');
  });

  it('bounds every call: stalls extend it by at most maxStallMs', async () => {
    const call = guard.run(() => new Promise<never>(() => undefined));
    for (let i = 0; i < 20; i += 1) {
      clock.stall(1_000);
      clock.fireDue();
      await settle();
    }
    await expect(call).resolves.toMatchObject({ ok: false, reason: 'unknown' });
  });

  it('probes even while the breaker is open, and an answer closes it at once (owed invalidations need not wait for its period)', async () => {
    const recovered = jest.fn();
    breaker = new CircuitBreaker(1, 60_000, recovered, clock);
    guard = new RedisGuard(breaker, 500, 5_000, clock, hooks);
    await guard.run(() => Promise.reject(new Error('ECONNREFUSED')));
    expect(breaker.state).toBe('open');
    await expect(guard.probe(async () => 'PONG')).resolves.toEqual({ ok: true, value: 'PONG' });
    expect(breaker.state).toBe('closed');
    expect(recovered).toHaveBeenCalledTimes(1);
    expect(hooks.onSuccess).toHaveBeenCalledTimes(1);
  });

  it('reports every success (pending invalidations are replayed on it)', async () => {
    await guard.run(async () => 'PONG');
    expect(hooks.onSuccess).toHaveBeenCalledTimes(1);
  });
});
