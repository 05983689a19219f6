import { CallHandler, ExecutionContext, Injectable, Logger, NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { from, lastValueFrom, Observable, of } from 'rxjs';
import { requestPath, routeTemplate, type HttpReply, type HttpRequest } from '../common/http-message';
import { RequestError } from '../common/problem';
import { ReplayedProblem, toProblem } from '../common/to-problem';
import { WriteTransactions } from './write-transactions';
import { IDEMPOTENCY_KEY_HEADER, parseIdempotencyKey, requestFingerprint } from './idempotency-key';
import { Claim, IdempotencyClaimLostError, IdempotencyStore, StoredResponse } from './idempotency.store';
import { IDEMPOTENT_RESPONSE, ResponseBuilder } from './idempotent.decorator';

/** Sent with every replayed response. */
export const REPLAYED_HEADER = 'Idempotent-Replayed';

const inProgress = () =>
  new RequestError('IDEMPOTENCY.IN_PROGRESS', 409, 'A request with this Idempotency-Key is still being processed; retry shortly', {
    retryAfterSeconds: 1,
  });

/**
 * `Idempotency-Key` on command routes. Without the header nothing changes. With it:
 * claim the key (scope = method + route template), run the command with its outcome
 * written in the command's transaction (via WriteTransactions), and answer repeats from
 * the store: same request -> stored response; still running -> 409 IDEMPOTENCY.IN_PROGRESS
 * with Retry-After; different request -> 422 IDEMPOTENCY.KEY_REUSED. 2xx and 4xx outcomes
 * are kept; a 5xx releases the key so a retry runs again.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  private readonly logger = new Logger('Idempotency');

  constructor(
    private readonly reflector: Reflector,
    private readonly store: IdempotencyStore,
    private readonly writes: WriteTransactions,
  ) {}

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    const respond = this.reflector.get<ResponseBuilder | undefined>(IDEMPOTENT_RESPONSE, context.getHandler());
    const req = context.switchToHttp().getRequest<HttpRequest>();
    const res = context.switchToHttp().getResponse<HttpReply>();
    const key = parseIdempotencyKey(req.headers[IDEMPOTENCY_KEY_HEADER]);
    if (!respond || key === undefined) return next.handle();
    const scope = `${req.method} ${routeTemplate(req) ?? requestPath(req)}`;
    const fingerprint = requestFingerprint({ scope, params: req.params ?? {}, body: req.body, ifMatch: req.headers['if-match'] });
    const outcome = await this.store.claim(scope, key, fingerprint);
    if (outcome.kind === 'in-progress') throw inProgress();
    if (outcome.kind === 'key-reused') {
      throw new RequestError('IDEMPOTENCY.KEY_REUSED', 422, 'This Idempotency-Key was already used for a different request');
    }
    if (outcome.kind === 'replay') return of(replay(res, outcome.response));
    return from(this.execute(outcome.claim, respond, next, requestPath(req)));
  }

  private async execute(claim: Claim, respond: ResponseBuilder, next: CallHandler, instance: string): Promise<unknown> {
    let recorded = false;
    try {
      const body: unknown = await this.writes.run(
        async (q, result) => {
          await this.store.complete(q, claim, respond(result));
          recorded = true;
        },
        () => lastValueFrom(next.handle(), { defaultValue: undefined }),
      );
      // A command that appended nothing (or not through WriteTransactions) still gets its outcome kept.
      if (!recorded) await this.store.completeAlone(claim, respond(body));
      return body;
    } catch (error) {
      if (error instanceof IdempotencyClaimLostError) throw inProgress();
      const problem = { ...toProblem(error), instance };
      const keep = problem.status >= 400 && problem.status < 500;
      await (keep ? this.store.completeAlone(claim, { status: problem.status, headers: {}, body: problem }) : this.store.release(claim))
        // The key's lease bounds the harm if this fails (e.g. the database is down): a retry takes it over.
        .catch((e) => this.logger.warn(`could not ${keep ? 'record' : 'release'} key "${claim.key}": ${(e as Error).message}`));
      throw error;
    }
  }
}

/** Sends a stored outcome again: a 2xx as the route would (headers + body), a 4xx through the problem filter. */
function replay(res: HttpReply, stored: StoredResponse): unknown {
  res.header(REPLAYED_HEADER, 'true');
  if (stored.status >= 400) throw new ReplayedProblem(stored.body as ConstructorParameters<typeof ReplayedProblem>[0]);
  for (const [name, value] of Object.entries(stored.headers)) res.header(name, value);
  return stored.body;
}
