import { Logger } from '@nestjs/common';
import { Registry } from 'prom-client';
import type { ProjectionCommit, ProjectionsService } from '@app/event-store';
import { CacheInvalidationPendingError, type StampedeCache } from '@app/stampede-cache';
import { ProjectionCacheInvalidation } from './projection-cache-invalidation';

/** A projection service that only delivers the commits the test hands it, and a cache whose invalidations the test settles. */
function setUp() {
  let listener: ((commit: ProjectionCommit) => void) | undefined;
  const projections = {
    onCommit: (l: (commit: ProjectionCommit) => void) => ((listener = l), () => (listener = undefined)),
  } as unknown as ProjectionsService;
  const settle: Array<{ resolve: () => void; reject: (e: unknown) => void }> = [];
  const invalidated: string[][] = [];
  const cache = {
    invalidateTags: (tags: string[]) => {
      invalidated.push(tags);
      return new Promise<void>((resolve, reject) => settle.push({ resolve, reject }));
    },
  } as unknown as StampedeCache;
  const registry = new Registry();
  const invalidation = new ProjectionCacheInvalidation(projections, cache, registry);
  invalidation.onModuleInit();
  const failures = async (reason: string) => {
    const metric = await registry.getSingleMetric('cache_invalidation_failures_total')!.get();
    return metric.values.find((v) => v.labels.reason === reason)?.value;
  };
  const commit = (tags: string[], position = 7) => listener!({ projection: 'user_profiles', position, tags });
  return { invalidation, invalidated, settle, failures, commit, subscribed: () => listener !== undefined };
}

/** Lets the invalidation's rejection handler run (the promise chain, not time). */
const settled = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('ProjectionCacheInvalidation', () => {
  let warn: jest.SpyInstance;
  let error: jest.SpyInstance;

  beforeEach(() => {
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    error = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  });
  afterEach(() => jest.restoreAllMocks());

  it('invalidates the tags of each commit, and counts no failure while they succeed', async () => {
    const t = setUp();
    t.commit(['user:1']);
    t.commit([]);
    t.settle[0].resolve();
    await settled();
    expect(t.invalidated).toEqual([['user:1']]);
    expect(await t.failures('pending')).toBe(0);
    expect(await t.failures('error')).toBe(0);
    expect(warn).not.toHaveBeenCalled();
  });

  it('counts a pending invalidation and logs that the cache will replay it, without retrying it itself', async () => {
    const t = setUp();
    t.commit(['user:1', 'leaderboard'], 42);
    t.settle[0].reject(new CacheInvalidationPendingError());
    await settled();
    expect(await t.failures('pending')).toBe(1);
    expect(await t.failures('error')).toBe(0);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0][0]).toMatch(/tags user:1, leaderboard after user_profiles committed position 42 is pending/);
    expect(warn.mock.calls[0][0]).toMatch(/replays it on every instance when Redis answers again/);
    expect(t.invalidated).toHaveLength(1); // the library's replay is the only retry
  });

  it('counts any other failure as an error, logged as not pending', async () => {
    const t = setUp();
    t.commit(['user:1']);
    t.settle[0].reject(new Error('boom'));
    await settled();
    expect(await t.failures('error')).toBe(1);
    expect(await t.failures('pending')).toBe(0);
    expect(error.mock.calls[0][0]).toMatch(/failed and the cache did not keep it pending.*\(boom\)/);
  });

  it('names a few tags of a large batch, not all of them', async () => {
    const t = setUp();
    t.commit(Array.from({ length: 1000 }, (_, i) => `user:${i}`));
    t.settle[0].reject(new CacheInvalidationPendingError());
    await settled();
    expect(warn.mock.calls[0][0]).toMatch(/1000 tags \(user:0, user:1, user:2, user:3, user:4, …\)/);
  });

  it('stops following commits at shutdown', () => {
    const t = setUp();
    t.invalidation.onApplicationShutdown();
    expect(t.subscribed()).toBe(false);
  });
});
