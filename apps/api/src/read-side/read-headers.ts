import type { Response } from 'express';
import type { CachedRead } from '@app/stampede-cache';

/**
 * The read contract's headers, set in one place for every cached read: `X-Cache`
 * (HIT, STALE, MISS or BYPASS), `X-Read-Position` (the checkpoint the answer reflects)
 * and, when the resource has one, `ETag` (its stream version).
 */
export function setReadHeaders(res: Response, read: CachedRead<unknown>, etagVersion?: number): void {
  res.setHeader('X-Cache', read.cache);
  res.setHeader('X-Read-Position', String(read.position ?? 0));
  if (etagVersion !== undefined) res.setHeader('ETag', `"${etagVersion}"`);
}
