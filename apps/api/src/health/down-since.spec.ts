import { DownSince } from './down-since';

describe('DownSince', () => {
  it('keeps the first time a component was seen down until it is seen up, then starts again', () => {
    let now = new Date('2026-01-01T00:00:00.000Z');
    const down = new DownSince(() => now);
    expect(down.observe('database', true, 'connect ECONNREFUSED')).toEqual([
      { component: 'database', since: '2026-01-01T00:00:00.000Z', error: 'connect ECONNREFUSED' },
    ]);
    now = new Date('2026-01-01T00:00:05.000Z');
    expect(down.observe('database', true)).toEqual([{ component: 'database', since: '2026-01-01T00:00:00.000Z' }]);
    expect(down.observe('database', false)).toEqual([]);
    expect(down.observe('database', true)).toEqual([{ component: 'database', since: '2026-01-01T00:00:05.000Z' }]);
  });
});
