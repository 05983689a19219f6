import { StreamableFile } from '@nestjs/common';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';

/**
 * A request as either HTTP platform hands it to Nest (Express' `Request`, Fastify's
 * `FastifyRequest`): only what both have, plus each one's way to name the matched route.
 * Code that takes a request takes this, so it runs on both (`HTTP_ADAPTER`).
 */
export interface HttpRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  params?: Record<string, string>;
  body?: unknown;
  /** The URL as received (both platforms set it; Express' `url` is relative to a mounted router). */
  originalUrl?: string;
  /** Express: the matched route and the router's mount path. */
  route?: { path?: string };
  baseUrl?: string;
  /** Fastify: the matched route. */
  routeOptions?: { url?: string };
  /** Fastify: the Node request under it (Express' request is one itself). */
  raw?: IncomingMessage;
}

/**
 * A response as either platform hands it to Nest (Express' `Response`, Fastify's
 * `FastifyReply`): the chainable methods both have under the same names. Fastify's reply
 * has no `setHeader`/`write`/`headersSent`; use `header` here and {@link replySent}.
 */
export interface HttpReply {
  status(code: number): HttpReply;
  header(name: string, value: string): HttpReply;
  type(contentType: string): HttpReply;
  send(body?: unknown): HttpReply;
  /** Express. */
  headersSent?: boolean;
  /** Fastify. */
  sent?: boolean;
  /** Fastify: the Node response under it (writing to it bypasses the reply's headers and hooks). */
  raw?: ServerResponse;
}

/** The request's path without the query string (a query may carry personal data), as the client sent it; any platform's request. */
export function requestPath(req: { originalUrl?: string; url?: string }): string {
  const url = req.originalUrl ?? req.url ?? '';
  const query = url.indexOf('?');
  return query < 0 ? url : url.slice(0, query);
}

/** The matched route's template (`/users/:id`), or undefined when no route matched. */
export function routeTemplate(req: HttpRequest): string | undefined {
  const path = req.route?.path;
  if (typeof path === 'string') return `${req.baseUrl ?? ''}${path}`;
  return req.routeOptions?.url;
}

/** Whether the request announces a body (a non-zero Content-Length, or chunked). */
export function hasBody(req: HttpRequest): boolean {
  return Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
}

/** Whether the request's Content-Type is this media type (parameters such as charset ignored). */
export function isMediaType(req: HttpRequest, mediaType: string): boolean {
  const contentType = req.headers['content-type'];
  return typeof contentType === 'string' && contentType.split(';')[0].trim().toLowerCase() === mediaType;
}

/** Whether the request has a body of this media type (parameters such as charset ignored), like Express' `req.is`. */
export function hasMediaType(req: HttpRequest, mediaType: string): boolean {
  return hasBody(req) && isMediaType(req, mediaType);
}

/** The request body as a byte stream, for routes that read their own body (a content-type parser left it unread). */
export function requestBodyStream(req: HttpRequest): Readable {
  return req.raw ?? (req as unknown as IncomingMessage);
}

/** Whether the response's head is already on the wire (then an error can only end it). */
export function replySent(res: HttpReply): boolean {
  return Boolean(res.sent ?? res.headersSent);
}

/** Ends a response whose head is already sent. */
export function endReply(res: HttpReply): void {
  (res.raw ?? (res as unknown as ServerResponse)).end();
}

/**
 * A streamed body of `contentType`, sent by either platform through its own reply (so
 * helmet's and every other header go out; Fastify gets `reply.send(stream)`, never
 * `reply.raw`). The first chunk is read before the status is committed, so a source that
 * fails at once (the database is down) still answers problem+json; a failure later can
 * only cut the stream short, which the client sees as a truncated body.
 */
export async function streamBody(chunks: AsyncIterable<string | Buffer>, contentType: string): Promise<StreamableFile> {
  const iterator = chunks[Symbol.asyncIterator]();
  const first = await iterator.next();
  async function* rest(): AsyncGenerator<string | Buffer> {
    try {
      if (first.done) return;
      yield first.value;
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
    } finally {
      // A client that goes away destroys the stream: the source (a database cursor) is closed too.
      await iterator.return?.();
    }
  }
  const file = new StreamableFile(Readable.from(rest()), { type: contentType });
  // The response may be cut short (see above), never answered twice.
  return file.setErrorHandler((_error, res) => void (res as unknown as ServerResponse).destroy());
}
