/**
 * `@app/stampede-cache/testing`: what the cache's own tests, the app's tests and the
 * benchmarks share. Left out of the build (tsconfig.lib.json excludes `testing/`) and never
 * imported by production code.
 */
export { ManualClock, deferred, settle } from './manual-clock';
export { seededRandom, sequence } from './seeded-random';
export { metricValue } from './metric-value';
export { watchCallers } from './callers';
export { FakeBroker, FakeConnection } from './fake-pubsub';
export { DEFAULT_TEST_REDIS_URL, TEST_REDIS_URL } from './test-redis';
export { RedisServerProcess, deleteNamespace, freePort, startRedisCluster, startRedisServer } from './redis-harness';
export { cacheStoreContract, type ContractSubject } from './store-contract';
/**
 * Internals a benchmark measures (bench/frozen-values.bench.ts shows why L1 freezes values
 * once instead of copying per hit). Here rather than in the root entry: no app calls them.
 */
export { canonicalValue, deepFreeze } from '../tiers/l1/frozen-values';
