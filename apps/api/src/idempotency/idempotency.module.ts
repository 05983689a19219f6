import { Global, Module } from '@nestjs/common';
import { CommandRepository } from '../common/command-repository';
import { IdempotencySweeper } from './idempotency-sweeper';
import { IdempotencyStore } from './idempotency.store';
import { RequestOutcome } from './request-outcome';

/**
 * The write path of command routes: `@Idempotent()` routes, their keys stored in PostgreSQL
 * beside the event log, and `CommandRepository`, the repository command handlers save
 * through so a request's outcome commits with its events. Global: any feature's handlers
 * and controllers use it.
 */
@Global()
@Module({
  providers: [IdempotencyStore, RequestOutcome, CommandRepository, IdempotencySweeper],
  exports: [IdempotencyStore, RequestOutcome, CommandRepository],
})
export class IdempotencyModule {}
