/**
 * The server of the HTTP hot-path benchmark (a child process, so the load generator does
 * not share its event loop): one Nest app, four GET routes returning the same JSON body.
 *   /bare                no cache
 *   /cache-manager       @nestjs/cache-manager CacheInterceptor, Keyv Redis store (Nest docs' setup)
 *   /stampede/l1         this library's @CacheRoute, value in the in-process L1
 *   /stampede/l2/:id     the same, over more keys than the L1 holds, so every read is a Redis (L2) hit
 * On the HTTP platform HTTP_ADAPTER names (express, the default, or fastify), bare as Nest sets it up.
 * Sends { url } to the parent once listening; exits on "stop" or when the parent goes away.
 */
import { TEST_REDIS_URL } from '../../libs/stampede-cache/test/test-redis';
import 'reflect-metadata';
import { CacheInterceptor, CacheModule, CacheTTL } from '@nestjs/cache-manager';
import { Controller, Get, Module, Param, UseInterceptors } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { createKeyv } from '@keyv/redis';
import { CacheRoute, StampedeCacheModule } from '@app/stampede-cache';
import { serveParent } from '../app-instances';

const REDIS_URL = process.env.REDIS_URL ?? TEST_REDIS_URL;
const NAMESPACE = process.env.BENCH_NAMESPACE ?? 'httpbench';
/** Keys the L2 route spreads its requests over; the L1 holds far fewer. */
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

@Controller()
class HotPathController {
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
}

@Module({
  imports: [
    CacheModule.register({ stores: [createKeyv(REDIS_URL, { namespace: `${NAMESPACE}-cm` })], ttl: TTL_MS }),
    StampedeCacheModule.forRoot({ redis: REDIS_URL, namespace: `${NAMESPACE}-sc`, l1: { maxEntries: L1_ENTRIES } }),
  ],
  controllers: [HotPathController],
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
