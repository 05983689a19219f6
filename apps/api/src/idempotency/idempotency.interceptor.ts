import { CallHandler, ExecutionContext, Injectable, Logger, NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { from, lastValueFrom, map, Observable, of } from 'rxjs';
import { requestPath, routeTemplate, type HttpReply, type HttpRequest } from '../common/http-message';
import { RequestError } from '../common/problem';
import { ReplayedProblem, toProblem } from '../common/to-problem';
import { COMMAND_RESPONSE, type CommandResponse } from './command-response';
import { IDEMPOTENCY_KEY_HEADER, parseIdempotencyKey, requestFingerprint } from './idempotency-key';
import { Claim, IdempotencyClaimLostError, IdempotencyStore, StoredResponse } from './idempotency.store';
import { RequestOutcome } from './request-outcome';

/** Sent with every replayed response. */
export const REPLAYED_HEADER = 'Idempotent-Replayed';

const inProgress = () =>
  new RequestError('IDEMPOTENCY.IN_PROGRESS', 409, 'A request with this Idempotency-Key is still being processed; retry shortly', {
    retryAfterSeconds: 1,
  });

/**
 * The whole `Idempotency-Key` protocol of a command route (`@Idempotent`), and the one place
 * its response is made. Without the header: run the route, answer its result through the
 * route's `CommandResponse`. With it: claim the key (scope = method + route template), run
 * the route with its outcome written in the transaction of the command's events (via
 * `RequestOutcome` and `CommandRepository`), and answer repeats from the store: same
 * request -> stored response; still running -> 409 IDEMPOTENCY.IN_PROGRESS with
 * Retry-After; different request -> 422 IDEMPOTENCY.KEY_REUSED. 2xx and 4xx outcomes are
 * kept; a 5xx releases the key so a retry runs again.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  private readonly logger = new Logger('Idempotency');

  constructor(
    private readonly reflector: Reflector,
    private readonly store: IdempotencyStore,
    private readonly outcome: RequestOutcome,
  ) {}

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    const route = this.reflector.get<CommandResponse | undefined>(COMMAND_RESPONSE, context.getHandler());
    const req = context.switchToHttp().getRequest<HttpRequest>();
    const res = context.switchToHttp().getResponse<HttpReply>();
    const key = parseIdempotencyKey(req.headers[IDEMPOTENCY_KEY_HEADER]);
    if (!route) return next.handle();
    if (key === undefined) return next.handle().pipe(map((result) => send(res, route.respond(result))));
    const scope = `${req.method} ${routeTemplate(req) ?? requestPath(req)}`;
    const fingerprint = requestFingerprint({ scope, params: req.params ?? {}, body: req.body, ifMatch: req.headers['if-match'] });
    const outcome = await this.store.claim(scope, key, fingerprint);
    if (outcome.kind === 'in-progress') throw inProgress();
    if (outcome.kind === 'key-reused') {
      throw new RequestError('IDEMPOTENCY.KEY_REUSED', 422, 'This Idempotency-Key was already used for a different request');
    }
    if (outcome.kind === 'replay') return of(replay(res, outcome.response));
    return from(this.execute(outcome.claim, route, next, requestPath(req))).pipe(map((response) => send(res, response)));
  }

  /** Runs the route under the claim; answers the response it recorded. */
  private async execute(claim: Claim, route: CommandResponse, next: CallHandler<unknown>, instance: string): Promise<StoredResponse> {
    let recorded: StoredResponse | undefined;
    try {
      const { value, appended } = await this.outcome.run(
        async (q, append) => {
          const response = route.respond(route.result(append));
          await this.store.complete(q, claim, response);
          recorded = response;
        },
        () => lastValueFrom(next.handle(), { defaultValue: undefined }),
      );
      if (appended && recorded) return recorded;
      // A command that appended nothing has no transaction to join: its outcome is kept on its own.
      const response = route.respond(value);
      await this.store.completeAlone(claim, response);
      return response;
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

/** Sets a response's headers and returns its body; its status is the route's own (`@HttpCode`), which it equals. */
function send(res: HttpReply, response: StoredResponse): unknown {
  for (const [name, value] of Object.entries(response.headers)) res.header(name, value);
  return response.body;
}

/** Sends a stored outcome again: a 2xx as the first run did (headers + body), a 4xx through the problem filter. */
function replay(res: HttpReply, stored: StoredResponse): unknown {
  res.header(REPLAYED_HEADER, 'true');
  if (stored.status >= 400) throw new ReplayedProblem(stored.body as ConstructorParameters<typeof ReplayedProblem>[0]);
  return send(res, stored);
}
