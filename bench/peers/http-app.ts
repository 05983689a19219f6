/**
 * The server of the HTTP hot-path benchmark (a child process, so the load generator does
 * not share its event loop): one Nest app, GET routes returning the same JSON body.
 *   /bare                no cache
 *   /cache-manager       @nestjs/cache-manager CacheInterceptor, Keyv Redis store (Nest docs' setup)
 *   /stampede/l1         this library's @CacheRoute, value in the in-process L1
 *   /stampede/l2/:id     the same, over more keys than the L1 holds, so every read is a Redis (L2) hit
 * On the HTTP platform HTTP_ADAPTER names (express, the default, or fastify), bare as Nest sets it up.
 *   /query/bare          a controller asking the QueryBus, handler not cached
 *   /query/l1            the same query through a @CachedQuery handler, value in L1 (X-Cache set from the read)
 *   /query/l2/:id        the same over more keys than the L1 holds: every read is an L2 hit
 *   /bench/cpu           this process's CPU time (process.cpuUsage), read by the load generator between loads
 * Sends { url } to the parent once listening; exits on "stop" or when the parent goes away.
 */
import { TEST_REDIS_URL } from '@app/stampede-cache/testing';
import 'reflect-metadata';
import { CacheInterceptor, CacheModule, CacheTTL } from '@nestjs/cache-manager';
import { Controller, Get, Module, Param, Res, UseInterceptors } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { CqrsModule, Query, QueryBus, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { createKeyv } from '@keyv/redis';
import { buildCacheKey, CachedQuery, CacheRoute, StampedeCacheModule, type CachedQueryHandler, type CachedRead } from '@app/stampede-cache';
import { serveParent } from '../app-instances';

/** What both platforms' replies share, for a header. */
type BenchReply = { header(name: string, value: string): unknown };

const REDIS_URL = process.env.REDIS_URL ?? TEST_REDIS_URL;
const NAMESPACE = process.env.BENCH_NAMESPACE ?? 'httpbench';
/** Keys the L2 routes spread their requests over; the L1 holds far fewer. */
export const L2_KEYS = 64;
const L1_ENTRIES = 4;
const TTL_MS = 10 * 60 * 1000;

/** A typical small read: a top-10 board. */
const BODY = {
  window: '24h',
  computedAt: '2026-01-01T00:00:00.000Z',
  entries: Array.from({ length: 10 }, (_, i) => ({
    rank: i + 1,
    userId: `00000000-0000-4000-8000-00000000000${i}`,
    name: `User ${i}`,
    points: 1000 - i * 37,
  })),
};
type Board = typeof BODY;

class BoardQuery extends Query<Board> {
  constructor(readonly board: string) {
    super();
  }
}

class CachedBoardQuery extends Query<CachedRead<Board>> {
  constructor(readonly board: string) {
    super();
  }
}

@QueryHandler(BoardQuery)
class BoardHandler implements IQueryHandler<BoardQuery, Board> {
  execute(): Promise<Board> {
    return Promise.resolve(BODY);
  }
}

@QueryHandler(CachedBoardQuery)
@CachedQuery<CachedBoardQuery, Board>({ key: (q) => buildCacheKey('board', { id: q.board }), ttl: TTL_MS, cache: 'board' })
class CachedBoardHandler implements CachedQueryHandler<CachedBoardQuery, Board> {
  execute(): Promise<Board> {
    return Promise.resolve(BODY);
  }
}

@Controller()
class HotPathController {
  constructor(private readonly queries: QueryBus) {}

  @Get('bare')
  bare() {
    return BODY;
  }

  @Get('cache-manager')
  @UseInterceptors(CacheInterceptor)
  @CacheTTL(TTL_MS)
  cacheManager() {
    return BODY;
  }

  @Get('stampede/l1')
  @CacheRoute({ ttl: TTL_MS })
  stampedeL1() {
    return BODY;
  }

  @Get('stampede/l2/:id')
  @CacheRoute({ ttl: TTL_MS })
  stampedeL2(@Param('id') _id: string) {
    return BODY;
  }

  @Get('query/bare')
  queryBare() {
    return this.queries.execute(new BoardQuery('top'));
  }

  @Get('query/l1')
  queryL1(@Res({ passthrough: true }) res: BenchReply) {
    return this.cachedQuery('top', res);
  }

  @Get('query/l2/:id')
  queryL2(@Param('id') id: string, @Res({ passthrough: true }) res: BenchReply) {
    return this.cachedQuery(id, res);
  }

  @Get('bench/cpu')
  cpu() {
    return process.cpuUsage();
  }

  /** As the app's controllers do: the read's cache status becomes the X-Cache header. */
  private async cachedQuery(board: string, res: BenchReply): Promise<Board> {
    const read = await this.queries.execute(new CachedBoardQuery(board));
    res.header('X-Cache', read.cache); // `header` exists on Express' response and Fastify's reply
    return read.value;
  }
}

@Module({
  imports: [
    CqrsModule.forRoot(),
    CacheModule.register({ stores: [createKeyv(REDIS_URL, { namespace: `${NAMESPACE}-cm` })], ttl: TTL_MS }),
    StampedeCacheModule.forRoot({ redis: REDIS_URL, namespace: `${NAMESPACE}-sc`, l1: { maxEntries: L1_ENTRIES } }),
  ],
  controllers: [HotPathController],
  providers: [BoardHandler, CachedBoardHandler],
})
class HotPathModule {}

async function main(): Promise<void> {
  const options = { logger: ['error' as const] };
  const app =
    process.env.HTTP_ADAPTER === 'fastify'
      ? await NestFactory.create(HotPathModule, new FastifyAdapter(), options)
      : await NestFactory.create(HotPathModule, options);
  app.enableShutdownHooks();
  await app.listen(0, '127.0.0.1');
  serveParent(await app.getUrl(), () => app.close());
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
