import { Injectable, Logger, Module } from '@nestjs/common';
import { CqrsModule, Query, QueryBus, QueryHandler } from '@nestjs/cqrs';
import { Test } from '@nestjs/testing';
import { eventually } from '../../../../test/eventually';
import { buildCacheKey } from '../core/cache-key';
import { StampedeCacheModule } from '../nest/stampede-cache.module';
import { CachedQuery, type CachedQueryHandler } from '../nest/cached-query.decorator';
import { CACHE_FRESHNESS_PORT, type CachedRead, type FreshnessPort } from './freshness';

/** A read model whose checkpoint the test moves: `position` is what a load reflects. */
const model = { position: 0, loads: 0, lagging: false };

class GetCountQuery extends Query<CachedRead<{ position: number }>> {
  constructor(readonly minPosition?: number) {
    super();
  }
}

@QueryHandler(GetCountQuery)
@CachedQuery<GetCountQuery, { position: number }>({
  key: () => buildCacheKey('count'),
  ttl: 60_000,
  freshness: { source: 'counts', minPosition: (q) => q.minPosition, position: (r) => r.position, tags: ['source:counts'] },
})
class GetCountHandler implements CachedQueryHandler<GetCountQuery, { position: number }> {
  async execute() {
    model.loads += 1;
    return { position: model.lagging ? model.position - 1 : model.position };
  }
}

/** A slow read model behind a soft timeout: its loads wait for the test's gate. */
const slow = { position: 0, loads: 0, gate: Promise.resolve() };

class GetSlowQuery extends Query<CachedRead<{ position: number }>> {
  constructor(readonly minPosition?: number) {
    super();
  }
}

@QueryHandler(GetSlowQuery)
@CachedQuery<GetSlowQuery, { position: number }>({
  key: () => buildCacheKey('slow'),
  ttl: 60_000,
  softTimeout: 1,
  freshness: { source: 'counts', minPosition: (q) => q.minPosition, position: (r) => r.position },
})
class GetSlowHandler implements CachedQueryHandler<GetSlowQuery, { position: number }> {
  async execute() {
    slow.loads += 1;
    const position = slow.position;
    await slow.gate;
    return { position };
  }
}

/** The app's port: resolves when the model reached the position, else rejects with the app's own error. */
@Injectable()
class CountsFreshness implements FreshnessPort {
  readonly waits: Array<[string, number]> = [];
  async waitFor(source: string, position: number) {
    this.waits.push([source, position]);
    if (model.position < position) throw new Error(`not caught up to ${position}`);
  }
}

@Module({ providers: [CountsFreshness, { provide: CACHE_FRESHNESS_PORT, useExisting: CountsFreshness }], exports: [CACHE_FRESHNESS_PORT] })
class FreshnessModule {}

describe('@CachedQuery with freshness (read-your-writes through the app port)', () => {
  const start = async (withPort: boolean) => {
    const moduleRef = await Test.createTestingModule({
      imports: [CqrsModule.forRoot(), StampedeCacheModule.forRoot({ isGlobal: true }), ...(withPort ? [FreshnessModule] : [])],
      providers: [GetCountHandler, GetSlowHandler],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    return app;
  };

  beforeEach(() => {
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    Object.assign(model, { position: 5, loads: 0, lagging: false });
  });
  afterEach(() => jest.restoreAllMocks());

  it('waits for the source, answers from the cache when new enough, and never from a value older than the minimum', async () => {
    const app = await start(true);
    try {
      const bus = app.get(QueryBus);
      await expect(bus.execute(new GetCountQuery())).resolves.toEqual({ value: { position: 5 }, cache: 'MISS', position: 5 });
      await expect(bus.execute(new GetCountQuery(5))).resolves.toEqual({ value: { position: 5 }, cache: 'HIT', position: 5 });
      expect(app.get(CountsFreshness).waits).toEqual([['counts', 5]]);

      model.position = 8; // a write the cached value does not reflect yet
      await expect(bus.execute(new GetCountQuery())).resolves.toMatchObject({ cache: 'HIT', position: 5 });
      await expect(bus.execute(new GetCountQuery(8))).resolves.toEqual({ value: { position: 8 }, cache: 'MISS', position: 8 });
      await expect(bus.execute(new GetCountQuery(9))).rejects.toThrow('not caught up to 9');

      model.position = 10;
      model.lagging = true; // the load still sees an older snapshot: read around the cache, never answer older
      const read = await bus.execute(new GetCountQuery(10));
      expect(read.cache).toBe('BYPASS');
      expect(model.loads).toBe(4);
    } finally {
      await app.close();
    }
  });

  it('N concurrent read-your-writes readers share computations (at most one at a time), never past a soft timeout to a direct load', async () => {
    const app = await start(true);
    try {
      const bus = app.get(QueryBus);
      Object.assign(slow, { position: 5, loads: 0, gate: Promise.resolve() });
      await bus.execute(new GetSlowQuery());
      let open!: () => void;
      slow.gate = new Promise<void>((resolve) => (open = resolve));
      slow.position = 8;
      model.position = 8;
      const reads = Array.from({ length: 10 }, () => bus.execute(new GetSlowQuery(8)));
      await eventually(() => slow.loads === 2, 5_000, 'the refresh to start'); // a signal, not a guess of how long it takes
      // Only the soft timeout (1 ms) needs real time to pass; a busy machine lets more pass, which makes the check stronger.
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(slow.loads).toBe(2); // the seed, and one refresh: nobody read around the cache
      open();
      const results = await Promise.all(reads);
      expect(results.every((read) => read.position === 8 && read.cache !== 'BYPASS')).toBe(true);
      expect(slow.loads).toBeLessThanOrEqual(3);
    } finally {
      await app.close();
    }
  });

  it('refuses to start when a query declares freshness and the app provides no port', async () => {
    await expect(start(false)).rejects.toMatchObject({ code: 'CACHE.INVALID_OPTIONS' });
  });
});
