import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { HttpReply, InboundRequest } from '../platforms/_kit/adapter.ts';

/**
 * Platform callbacks are kept as the exact bytes received (signatures cover them, and
 * `format: raw` forwards them), so routes taking callbacks parse no body themselves.
 */
export function keepBodiesRaw(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
}

/** A platform callback as adapters see it (see keepBodiesRaw). */
export function inboundRequestOf(request: FastifyRequest, pathToken: string | undefined): InboundRequest {
  return {
    method: request.method,
    headers: request.headers,
    query: request.query as Record<string, string | undefined>,
    rawQuery: rawQueryOf(request.url),
    pathToken,
    rawBody: Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0),
    receivedAt: new Date(),
  };
}

/** Answers what an adapter decided. */
export function sendReply(reply: FastifyReply, out: HttpReply): FastifyReply {
  reply.status(out.status);
  if (out.body === null) return reply.send();
  if (Buffer.isBuffer(out.body) || typeof out.body === 'string') {
    return reply.type(out.contentType ?? 'text/plain; charset=utf-8').send(out.body);
  }
  return reply.type(out.contentType ?? 'application/json').send(out.body);
}

/** The query string as it was on the wire, without `?`. */
function rawQueryOf(url: string): string {
  const start = url.indexOf('?');
  return start === -1 ? '' : url.slice(start + 1);
}
