import { Controller, Get, INestApplication, Injectable, Logger, Module, Param, Query as QueryParam } from '@nestjs/common';
import { CqrsModule, Query, QueryBus, QueryHandler } from '@nestjs/cqrs';
import { Test } from '@nestjs/testing';
import { Registry } from 'prom-client';
import request from 'supertest';
import { buildCacheKey } from '../core/cache-key';
import { StampedeCacheModule } from './stampede-cache.module';
import { StampedeCache } from '../core/stampede-cache.service';
import { CacheRoute } from './cache-route.decorator';
import { CachedQuery, type CachedQueryHandler } from './cached-query.decorator';
import type { CachedRead } from '../read-your-writes/freshness';

class GetBoardQuery extends Query<CachedRead<{ window: string; computedBy: number }>> {
  constructor(readonly window: string) {
    super();
  }
}

let handlerRuns = 0;

@QueryHandler(GetBoardQuery)
@CachedQuery<GetBoardQuery>({
  key: (query) => buildCacheKey('board', { window: query.window }),
  ttl: 60_000,
  tags: (query) => [`board:${query.window}`],
})
class GetBoardHandler implements CachedQueryHandler<GetBoardQuery, { window: string; computedBy: number }> {
  async execute(query: GetBoardQuery) {
    handlerRuns += 1;
    return { window: query.window, computedBy: handlerRuns };
  }
}

let routeRuns = 0;

@Controller('boards')
class BoardController {
  @Get(':id')
  @CacheRoute({ ttl: 60_000, queryParams: ['window', 'limit'] })
  async board(@Param('id') id: string, @QueryParam('window') window?: string) {
    routeRuns += 1;
    return { id, window: window ?? null, run: routeRuns };
  }

  @Get()
  async uncached() {
    routeRuns += 1;
    return { run: routeRuns };
  }
}

@Injectable()
class MetricsConsumer {
  constructor(readonly cache: StampedeCache) {}
}

@Module({ providers: [MetricsConsumer] })
class FeatureModule {}

/** The module wired as an app would: forRootAsync + isGlobal, CQRS handlers, an HTTP route. */
describe('StampedeCacheModule in a Nest app (L1-only)', () => {
  let app: INestApplication;
  const registry = new Registry();

  beforeAll(async () => {
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const moduleRef = await Test.createTestingModule({
      imports: [
        CqrsModule.forRoot(),
        StampedeCacheModule.forRootAsync({ isGlobal: true, useFactory: () => ({ registry, namespace: 'nest-spec' }) }),
        FeatureModule,
      ],
      controllers: [BoardController],
      providers: [GetBoardHandler],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
  });
  afterAll(async () => {
    await app.close();
    jest.restoreAllMocks();
  });

  it('provides the cache globally with metrics in the given registry', () => {
    const consumer = app.get(MetricsConsumer);
    expect(consumer.cache).toBe(app.get(StampedeCache));
    expect(consumer.cache.registry).toBe(registry);
    expect(registry.getSingleMetric('cache_requests_total')).toBeDefined();
  });

  it('caches @CachedQuery handlers at the bus whoever calls them, with the cache status, and invalidates by tag', async () => {
    const bus = app.get(QueryBus);
    const first = await bus.execute(new GetBoardQuery('week'));
    expect(first.cache).toBe('MISS');
    await expect(bus.execute(new GetBoardQuery('week'))).resolves.toEqual({ ...first, cache: 'HIT' });
    await expect(app.get(GetBoardHandler).execute(new GetBoardQuery('week'))).resolves.toEqual({ ...first, cache: 'HIT' });
    expect((await bus.execute(new GetBoardQuery('day'))).value.computedBy).toBe(first.value.computedBy + 1);
    await app.get(StampedeCache).invalidateTags(['board:week']);
    expect((await bus.execute(new GetBoardQuery('week'))).value.computedBy).toBe(first.value.computedBy + 2);
    const { values } = await registry.getSingleMetric('cache_factory_runs_total')!.get();
    expect(values.find((sample) => sample.labels.cache === 'GetBoardHandler')?.value).toBe(3);
  });

  it('caches @CacheRoute by route template, path params and allow-listed query only, with X-Cache', async () => {
    const server = app.getHttpServer();
    const miss = await request(server).get('/boards/1?window=week&nonce=1').expect(200);
    expect(miss.headers['x-cache']).toBe('MISS');
    const hit = await request(server).get('/boards/1?nonce=2&window=%20week%20&utm=x').expect(200);
    expect(hit.headers['x-cache']).toBe('HIT');
    expect(hit.body).toEqual(miss.body);
    const otherParam = await request(server).get('/boards/2?window=week').expect(200);
    expect(otherParam.headers['x-cache']).toBe('MISS');
    const otherWindow = await request(server).get('/boards/1?window=day').expect(200);
    expect(otherWindow.body.run).not.toBe(miss.body.run);
    const plain = await request(server).get('/boards').expect(200);
    expect(plain.headers['x-cache']).toBeUndefined();
  });
});
