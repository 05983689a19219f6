import { systemClock } from './clock';
import { resolveProjectionsOptions } from './projections-options';

const names = {
  batchSize: 'projectionBatchSize',
  pollMs: 'projectionPollMs',
  lockTimeoutMs: 'projectionLockTimeoutMs',
  switchLockTimeoutMs: 'projectionSwitchLockTimeoutMs',
};
const base = { url: 'postgres://x', channel: 'c' };

describe('resolveProjectionsOptions', () => {
  it('fills the documented defaults', () => {
    expect(resolveProjectionsOptions(base, names)).toEqual({
      ...base,
      batchSize: 2000,
      pollMs: 500,
      lockTimeoutMs: 10_000,
      switchLockTimeoutMs: 500,
      clock: systemClock,
    });
  });

  it.each([
    [{ lockTimeoutMs: 999 }, 'projectionLockTimeoutMs must be an integer from 1000 to 600000'],
    [{ lockTimeoutMs: 600_001 }, 'projectionLockTimeoutMs must be an integer from 1000 to 600000'],
    [{ lockTimeoutMs: 1500.5 }, 'projectionLockTimeoutMs must be an integer from 1000 to 600000'],
    [{ batchSize: 0 }, 'projectionBatchSize must be an integer from 1 to 100000'],
    [{ pollMs: Number.NaN }, 'projectionPollMs must be an integer from 1 to 60000'],
  ])('refuses %j, naming the option and its rule', (bad, message) => {
    expect(() => resolveProjectionsOptions({ ...base, ...bad }, names)).toThrow(message);
  });
});
