/** The Redis that `npm test` finds there when TEST_REDIS_URL is not given. */
export const DEFAULT_TEST_REDIS_URL = 'redis://127.0.0.1:6379';

/**
 * The Redis the integration and e2e tests share (each test in a namespace of its
 * own). The Jest set-up resolves it for the run (given, the default port, or a
 * `redis-server` it started) and passes it on as TEST_REDIS_URL.
 */
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? DEFAULT_TEST_REDIS_URL;
