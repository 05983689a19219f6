import { Global, Module } from '@nestjs/common';
import { WriteTransactions } from './write-transactions';
import { IdempotencySweeper } from './idempotency-sweeper';
import { IdempotencyStore } from './idempotency.store';

/**
 * Idempotency keys for command routes (`@Idempotent()`), stored in PostgreSQL beside
 * the event log. Global: any feature's controller can mark its commands idempotent.
 */
@Global()
@Module({
  providers: [IdempotencyStore, WriteTransactions, IdempotencySweeper],
  exports: [IdempotencyStore, WriteTransactions],
})
export class IdempotencyModule {}
