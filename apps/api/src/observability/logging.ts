import type { IncomingMessage, ServerResponse } from 'node:http';
import { RequestMethod, type LoggerService } from '@nestjs/common';
import { Logger, PinoLogger, type Params } from 'nestjs-pino';
import type { DestinationStream, Level } from 'pino';
import { stdSerializers } from 'pino';
import type { Options } from 'pino-http';
import type { AppConfig, LogLevelName } from '../config/app-config';
import { requestPath } from '../common/http-message';
import { redactObject, scrubText } from './redaction';
import { requestIdsOf, routeOf } from './request-ids';

/** Nest's level names (LOG_LEVEL) as pino's. */
const PINO_LEVELS: Record<LogLevelName, Level> = {
  verbose: 'trace',
  debug: 'debug',
  log: 'info',
  warn: 'warn',
  error: 'error',
  fatal: 'fatal',
};

/** Where log lines go instead of stdout (the e2e tests capture them). */
export interface LogOutput {
  destination?: DestinationStream;
}

/**
 * nestjs-pino's parameters: JSON lines (or pino-pretty with `LOG_FORMAT=pretty`) at `LOG_LEVEL`.
 * Every line logged while a request is handled carries `requestId` and `correlationId`; each request
 * ends with one line holding its method, route, path, status and duration. Secrets and personal
 * data are redacted (see redaction.ts).
 */
export function loggerParams(config: Pick<AppConfig, 'LOG_LEVEL' | 'LOG_FORMAT' | 'ADMIN_TOKEN'>, output: LogOutput = {}): Params {
  const secrets = config.ADMIN_TOKEN ? [config.ADMIN_TOKEN] : [];
  const scrub = (text: string) => scrubText(text, secrets);
  const options: Options = {
    level: PINO_LEVELS[config.LOG_LEVEL],
    formatters: { log: (object) => redactObject(object, scrub) },
    hooks: {
      // Free text cannot be redacted by key: mask what looks like a secret or an email in messages.
      logMethod(args, method) {
        method.apply(this, args.map((a) => (typeof a === 'string' ? scrub(a) : a)) as Parameters<typeof method>);
      },
    },
    // The request and response objects are never logged (requestLine picks what the request line shows): no
    // serializer builds them, which also keeps their headers out of every child logger pino-http makes.
    wrapSerializers: false,
    serializers: {
      req: () => undefined,
      res: () => undefined,
      err: (error: Error) => {
        const s = stdSerializers.err(error);
        return { ...s, message: scrub(s.message ?? ''), stack: s.stack && scrub(s.stack) };
      },
    },
    transport:
      config.LOG_FORMAT === 'pretty'
        ? { target: 'pino-pretty', options: { singleLine: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } }
        : undefined,
    genReqId: (req, res) => requestIdsOf(req, res).requestId,
    customAttributeKeys: { reqId: 'requestId', responseTime: 'durationMs' },
    quietReqLogger: true,
    quietResLogger: true,
    customProps: (req) => ({ correlationId: requestIdsOf(req).correlationId }),
    customLogLevel: (_req, res, error) => (error || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
    customSuccessObject: (req, res, value: object) => ({ ...value, ...requestLine(req, res) }),
    // pino-http invents an error for a plain 5xx answer; its stack says nothing (the problem filter logs the real one).
    customErrorObject: (req, res, error, value: object) => {
      const invented = error.message === `failed with status code ${res.statusCode}`;
      return { ...value, ...requestLine(req, res), ...(invented ? { err: undefined } : {}) };
    },
    customSuccessMessage: requestMessage,
    customErrorMessage: requestMessage,
  };
  return {
    pinoHttp: output.destination ? [options, output.destination] : options,
    // Every route, in the wildcard syntax both HTTP platforms' routers take (nestjs-pino's default `*` misses on Fastify).
    forRoutes: [{ path: '{*path}', method: RequestMethod.ALL }],
  };
}

/** The fields of the one line per request (plus pino-http's `durationMs`); the response object itself is left out. */
function requestLine(req: IncomingMessage, res: ServerResponse) {
  return { method: req.method, route: routeOf(req), path: requestPath(req), status: res.statusCode, res: undefined };
}

/** The message of a request's line: method, route (else path) and status. */
function requestMessage(req: IncomingMessage, res: ServerResponse): string {
  return `${req.method} ${routeOf(req) ?? requestPath(req)} ${res.statusCode}`;
}

/** A Nest logger with the same pino set-up, for the lines main.ts logs before the app exists. */
export function startupLogger(config: Parameters<typeof loggerParams>[0]): LoggerService {
  const params = loggerParams(config);
  return new Logger(new PinoLogger(params), params);
}
