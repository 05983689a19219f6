import type { Queryable } from '../postgres/queryable';
import type { EventStore } from '../postgres/postgres-event-store';
import { balancesProjection } from '../testing/balances-projection';
import { systemClock } from './clock';
import { ProjectionsService, UnknownProjectionError } from './projections.service';

describe('ProjectionsService.tableName', () => {
  const store = { schema: '"app_store"' } as EventStore;
  const service = new ProjectionsService(
    {} as Queryable,
    store,
    [balancesProjection({ name: 'bal' })],
    {
      url: 'postgres://unused',
      channel: 'c',
      batchSize: 10,
      switchLockTimeoutMs: 500,
      pollMs: 10,
      lockTimeoutMs: 1000,
      clock: systemClock,
    },
    1,
  );

  it('qualifies and quotes a table a registered projection declares, and the checkpoint table', () => {
    expect(service.tableName('bal')).toBe('"app_store"."bal"');
    expect(service.tableName('bal_applied')).toBe('"app_store"."bal_applied"');
    expect(service.tableName('projections')).toBe('"app_store"."projections"');
  });

  it('refuses a name no projection declares, so a typo fails loudly instead of reading another table', () => {
    expect(() => service.tableName('bal; DROP TABLE x')).toThrow(UnknownProjectionError);
    expect(() => service.tableName('events')).toThrow('No registered projection declares a table named "events"');
  });
});
