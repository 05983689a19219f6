import { deferred, ManualClock } from '../testing/manual-clock';
import { CircuitBreaker } from './circuit-breaker';

describe('CircuitBreaker', () => {
  const failing = () => Promise.reject(new Error('redis down'));
  let clock: ManualClock;

  beforeEach(() => {
    clock = new ManualClock();
  });

  it('answers the fallback on failure and opens after the threshold', async () => {
    const breaker = new CircuitBreaker(2, 1_000, undefined, clock);
    await expect(breaker.run(failing, 'fallback')).resolves.toBe('fallback');
    expect(breaker.state).toBe('closed');
    await breaker.run(failing, 'fallback');
    expect(breaker.state).toBe('open');
    const operation = jest.fn(async () => 'value');
    await expect(breaker.run(operation, 'fallback')).resolves.toBe('fallback');
    expect(operation).not.toHaveBeenCalled(); // open: no call waits on a dead Redis
  });

  it('half-opens after the reset timeout, lets one probe through, and closes on success', async () => {
    const recovered = jest.fn();
    const breaker = new CircuitBreaker(1, 30, recovered, clock);
    await breaker.run(failing, undefined);
    await clock.advance(29);
    expect(breaker.state).toBe('open');
    await clock.advance(1);
    expect(breaker.state).toBe('half-open');
    const gate = deferred<string>();
    const probe = breaker.run(() => gate.promise, 'fallback');
    await expect(breaker.run(async () => 'concurrent', 'fallback')).resolves.toBe('fallback');
    gate.resolve('value');
    await expect(probe).resolves.toBe('value');
    expect(breaker.state).toBe('closed');
    expect(recovered).toHaveBeenCalledTimes(1);
  });

  it('re-opens when the probe fails', async () => {
    const breaker = new CircuitBreaker(1, 30, undefined, clock);
    await breaker.run(failing, undefined);
    await clock.advance(30);
    await breaker.run(failing, undefined);
    expect(breaker.state).toBe('open');
  });
});
