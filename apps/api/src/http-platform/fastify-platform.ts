import fastifyHelmet from '@fastify/helmet';
import type { DynamicModule, INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import helmet from 'helmet';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import { requestPath, type HttpReply } from '../common/http-message';
import { accessProblem, DOCS_PATHS } from '../common/operational-access';
import { makeProblem } from '../common/to-problem';
import type { AppConfig } from '../config/app-config';
import { httpMetrics } from '../metrics/http-metrics';
import { METRICS_REGISTRY } from '../metrics/metrics.registry';
import { markRoute, requestIdsOf } from '../observability/request-ids';

/** Longest path parameter the router accepts; longer ones reach the route, whose own validation answers 400. */
const MAX_PARAM_LENGTH = 8192;

type Fastify = ReturnType<ReturnType<NestFastifyApplication['getHttpAdapter']>['getInstance']>;

/**
 * The app on Fastify (`HTTP_ADAPTER=fastify`), answering the same HTTP contract as on
 * Express: helmet through `@fastify/helmet`, `trustProxy` for TRUST_PROXY, the JSON body
 * limit and Express' JSON rules (an empty body is `{}`, only objects and arrays), an
 * NDJSON parser that leaves the admin import's body to stream, and the metrics and docs'
 * access rule as hooks (Fastify's middleware sees raw Node objects without the route).
 * Fastify sends neither `X-Powered-By` nor automatic ETags.
 */
export async function createFastifyApp(module: DynamicModule, config: AppConfig): Promise<INestApplication> {
  const securityHeaders = helmet();
  const adapter = new FastifyAdapter({
    trustProxy: config.TRUST_PROXY > 0 ? config.TRUST_PROXY : false,
    // Fastify's request id (which pino-http's log lines then carry) is the service's: X-Request-Id when well-formed.
    genReqId: (req: IncomingMessage) => requestIdsOf(req).requestId,
    bodyLimit: config.BODY_LIMIT_BYTES,
    // Express has no limit of its own; Fastify's default (100) would answer 414 to a stream id the admin API accepts (up to 200).
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // The router refuses a URL it cannot decode (`/users/%`) before any hook or Nest runs: answer it as Express does, as a
    // problem+json 400 with the security headers (helmet's own middleware, which @fastify/helmet wraps).
    frameworkErrors: (error: Error, req: { url: string; raw: IncomingMessage }, reply: HttpReply & { raw: ServerResponse }) => {
      const problem = { ...makeProblem(400, 'REQUEST.MALFORMED', error.message), instance: requestPath(req) };
      securityHeaders(req.raw, reply.raw, () => void reply.status(400).type('application/problem+json').send(JSON.stringify(problem)));
    },
  });
  const app = await NestFactory.create<NestFastifyApplication>(module, adapter, { bodyParser: false, bufferLogs: true });
  const fastify = app.getHttpAdapter().getInstance();
  await app.register(fastifyHelmet);
  parseJsonLikeExpress(fastify, config.BODY_LIMIT_BYTES);
  // The import streams its body into COPY: no limit, nothing buffered.
  fastify.addContentTypeParser('application/x-ndjson', (_req, _payload, done) => done(null, undefined));
  const record = httpMetrics(app.get<Registry>(METRICS_REGISTRY));
  // The request's ids are echoed here (pino-http takes Fastify's request id, below, and echoes nothing), and its log
  // line names its route: Fastify keeps the route on its own request, not on the raw one pino-http sees.
  fastify.addHook('onRequest', (req, reply, done) => {
    const ids = requestIdsOf(req.raw);
    void reply.header('X-Request-Id', ids.requestId).header('X-Correlation-Id', ids.correlationId);
    if (!req.is404 && req.routeOptions.url) markRoute(req.raw, req.routeOptions.url);
    done();
  });
  fastify.addHook('onResponse', (req, reply, done) => {
    record(req.method, req.is404 ? undefined : req.routeOptions.url, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
  if (config.DOCS_ACCESS !== 'off') {
    const { DOCS_ACCESS: mode, ADMIN_TOKEN: token } = config;
    fastify.addHook('onRequest', (req, reply, done) => {
      const path = requestPath(req);
      const problem = DOCS_PATHS.some((p) => path === p || path.startsWith(`${p}/`))
        ? accessProblem(mode, token, req.headers.authorization, path)
        : undefined;
      if (!problem) return done();
      if (problem.status === 401) void reply.header('WWW-Authenticate', 'Bearer');
      void reply.status(problem.status).type('application/problem+json').send(JSON.stringify(problem));
    });
  }
  return app;
}

/** Express' `json({ strict: true })` rules on Fastify's safe parser, so both platforms accept and refuse the same bodies. */
function parseJsonLikeExpress(fastify: Fastify, bodyLimit: number): void {
  const parse = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeContentTypeParser('application/json');
  fastify.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit }, (req, body, done) => {
    const text = String(body);
    if (text.trim() === '') return done(null, {});
    // A SyntaxError with status 400 is what Nest turns into a 400 (as it does for Express' body parser).
    const malformed = (message: string) => Object.assign(new SyntaxError(message), { status: 400, statusCode: 400 });
    if (!/^\s*[[{]/.test(text)) return done(malformed('JSON body must be an object or an array'), undefined);
    void parse(req, text, (error, value) => (error ? done(malformed(error.message), undefined) : done(null, value)));
  });
}
