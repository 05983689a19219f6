import { ExecutionContext, Injectable } from '@nestjs/common';
import { ThrottlerGuard, type ThrottlerLimitDetail } from '@nestjs/throttler';
import { RequestError } from '../common/problem';

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * The write rate limit: one budget per client IP (an IPv6 /64 counts as one client)
 * shared by every write route; reads are never limited (the cache absorbs them).
 * Over the limit: 429 problem+json `RATE_LIMIT.EXCEEDED` with Retry-After.
 */
@Injectable()
export class WriteThrottlerGuard extends ThrottlerGuard {
  protected shouldSkip(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return Promise.resolve(true);
    return Promise.resolve(!WRITE_METHODS.has(context.switchToHttp().getRequest<{ method: string }>().method));
  }

  protected generateKey(_context: ExecutionContext, tracker: string, throttler: string): string {
    return `${throttler}:${tracker}`;
  }

  protected throwThrottlingException(_context: ExecutionContext, detail: ThrottlerLimitDetail): Promise<void> {
    const message = `More than ${detail.limit} writes from this client in the window; retry later`;
    return Promise.reject(new RequestError('RATE_LIMIT.EXCEEDED', 429, message, { retryAfterSeconds: detail.timeToBlockExpire }));
  }
}
