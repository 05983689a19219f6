/*
 * Read-your-writes, the app's side: the cache library's FreshnessPort answered by the
 * projections. The protocol itself lives in the library: libs/stampede-cache/README.md#read-your-writes.
 */
import { Inject, Injectable } from '@nestjs/common';
import { ProjectionsService } from '@app/event-store';
import type { FreshnessPort } from '@app/stampede-cache';
import { RequestError } from '../common/problem';
import { AppConfig } from '../config/app-config';

/**
 * The app's freshness port for cached queries: a source is a projection, a position is a
 * log position. Waits (at most READ_YOUR_WRITES_TIMEOUT_MS) for the projection's checkpoint,
 * then gives up with 503 READ_MODEL.NOT_CAUGHT_UP and Retry-After. A reader then waits for
 * a computation that reflects its write for at most the same bound (`waitBoundMs`).
 */
@Injectable()
export class ProjectionFreshness implements FreshnessPort {
  constructor(
    private readonly projections: ProjectionsService,
    @Inject(AppConfig) private readonly config: AppConfig,
  ) {}

  get waitBoundMs(): number {
    return this.config.READ_YOUR_WRITES_TIMEOUT_MS;
  }

  async waitFor(projection: string, position: number): Promise<void> {
    if (await this.projections.waitFor(projection, position, this.config.READ_YOUR_WRITES_TIMEOUT_MS)) return;
    throw new RequestError('READ_MODEL.NOT_CAUGHT_UP', 503, `The ${projection} read model has not reached position ${position} yet`, {
      retryAfterSeconds: 1,
      minPosition: position,
    });
  }
}
