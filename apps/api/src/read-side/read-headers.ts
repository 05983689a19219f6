/*
 * Read-your-writes, the app's side: a cached read's answer as HTTP headers. The protocol
 * itself lives in the cache library: libs/stampede-cache/README.md#read-your-writes.
 */
import type { CachedRead } from '@app/stampede-cache';
import type { HttpReply } from '../common/http-message';

/**
 * The read contract's headers, set in one place for every cached read: `X-Cache`
 * (HIT, STALE, MISS or BYPASS), `X-Read-Position` (the checkpoint the answer reflects)
 * and, when the resource has one, `ETag` (its stream version).
 */
export function setReadHeaders(res: HttpReply, read: CachedRead<unknown>, etagVersion?: number): void {
  res.header('X-Cache', read.cache);
  res.header('X-Read-Position', String(read.position ?? 0));
  if (etagVersion !== undefined) res.header('ETag', `"${etagVersion}"`);
}
