import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { IdempotencyStore } from './idempotency.store';

/** How often each instance deletes expired keys (a bounded batch each time). */
export const SWEEP_EVERY_MS = 10 * 60_000;

/**
 * Keeps the key table to about one TTL of traffic. Correctness does not depend on it:
 * an expired key counts as absent whether or not it was deleted yet.
 */
@Injectable()
export class IdempotencySweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Idempotency');
  private timer?: NodeJS.Timeout;

  constructor(private readonly store: IdempotencyStore) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      this.store.sweep().then(
        (n) => n && this.logger.debug(`swept ${n} expired idempotency keys`),
        (e) => this.logger.warn(`sweep failed: ${(e as Error).message}`),
      );
    }, SWEEP_EVERY_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }
}
