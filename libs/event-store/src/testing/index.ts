/**
 * Test helpers of the event store (`@app/event-store/testing`) for the library's own tests, the
 * application's and the benchmarks': a schema of its own per run, seeded logs, a sample
 * projection with its read-model checks, append probes. Never imported by production code.
 * (`projection-child.ts` is a script a test starts as a process, so it is not exported.)
 */
export { DEFAULT_TEST_DATABASE_URL, dropSchema, TEST_DATABASE_URL, uniqueSchema } from './test-database';
export { seedEvents } from './seed';
export { AppendProbe, deferred, within } from './append-probes';
export { note, Noted, notedEvents } from './noted-events';
export { balanceDifferences, balancesProjection, Deposited, depositedEvent, readModelSnapshot, seedDeposits } from './balances-projection';
export type { BalancesOptions, ReadModelSnapshot } from './balances-projection';
export { personalDataOf } from './personal-data-fixture';
/** Internal, for the import benchmark's step-by-step timing: the log's advisory lock keys. */
export { logLockKeys } from '../postgres/lock-keys';
/** Internal, for the import benchmark's step-by-step timing: the COPY encoder of the bulk import. */
export { CopyLineEncoder } from '../tools/import/copy-encoder';
