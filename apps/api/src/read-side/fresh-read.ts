import { Inject, Injectable } from '@nestjs/common';
import { ProjectionsService } from '@app/event-store';
import { CacheKey, StampedeCache } from '@app/stampede-cache';
import { RequestError } from '../common/problem';
import { AppConfig } from '../config/app-config';

/** A read-model value and the log position it reflects. */
export interface Positioned {
  position: number;
}

/** What a cached read answers: the value, where it came from (for X-Cache), and its position. */
export interface FreshReadResult<T extends Positioned> {
  value: T;
  cache: 'HIT' | 'STALE' | 'MISS' | 'BYPASS';
}

export interface FreshReadRequest<T extends Positioned> {
  projection: string;
  key: CacheKey;
  ttl: number;
  tags: string[];
  cache: string;
  /** X-Min-Position: the answer must reflect at least this position. */
  minPosition?: number;
  load: () => Promise<T>;
}

/**
 * Cached reads of projection-backed read models with read-your-writes: with
 * a minimum position, wait (bounded) for the projection to reach it, then
 * never answer from a cached value older than it (refresh, else bypass).
 */
@Injectable()
export class FreshReads {
  constructor(
    private readonly cache: StampedeCache,
    private readonly projections: ProjectionsService,
    @Inject(AppConfig) private readonly config: AppConfig,
  ) {}

  async read<T extends Positioned>(r: FreshReadRequest<T>): Promise<FreshReadResult<T>> {
    const min = r.minPosition ?? 0;
    if (min > 0 && !(await this.projections.waitFor(r.projection, min, this.config.READ_YOUR_WRITES_TIMEOUT_MS))) {
      throw new RequestError('READ_MODEL.NOT_CAUGHT_UP', 503, `The ${r.projection} read model has not reached position ${min} yet`, {
        retryAfterSeconds: 1,
        minPosition: min,
      });
    }
    // Every value also carries its projection's tag, which a rebuild switch invalidates wholesale.
    const options = { ttl: r.ttl, tags: [...r.tags, `projection:${r.projection}`], cache: r.cache };
    const cached = await this.cache.getOrComputeWithStatus(r.key, r.load, options);
    if (cached.value.position >= min) return { value: cached.value, cache: cached.status };
    const refreshed = await this.cache.getOrComputeWithStatus(r.key, r.load, { ...options, forceRefresh: true });
    if (refreshed.value.position >= min) return { value: refreshed.value, cache: 'MISS' };
    // Joined a refresh that started before the projection caught up: read around the cache.
    return { value: await r.load(), cache: 'BYPASS' };
  }
}
