import { CircuitBreaker } from './circuit-breaker';
import { sleep } from './timing';

describe('CircuitBreaker', () => {
  const failing = () => Promise.reject(new Error('redis down'));

  it('answers the fallback on failure and opens after the threshold', async () => {
    const breaker = new CircuitBreaker(2, 1_000);
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
    const breaker = new CircuitBreaker(1, 30, recovered);
    await breaker.run(failing, undefined);
    await sleep(40);
    expect(breaker.state).toBe('half-open');
    let release: (value: string) => void = () => undefined;
    const probe = breaker.run(() => new Promise<string>((resolve) => (release = resolve)), 'fallback');
    await expect(breaker.run(async () => 'concurrent', 'fallback')).resolves.toBe('fallback');
    release('value');
    await expect(probe).resolves.toBe('value');
    expect(breaker.state).toBe('closed');
    expect(recovered).toHaveBeenCalledTimes(1);
  });

  it('re-opens when the probe fails', async () => {
    const breaker = new CircuitBreaker(1, 30);
    await breaker.run(failing, undefined);
    await sleep(40);
    await breaker.run(failing, undefined);
    expect(breaker.state).toBe('open');
  });
});
