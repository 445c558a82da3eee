import type { FastifyInstance } from 'fastify';
import type { Logger } from '../../core/logger.ts';

/** Fields a route adds to its request's log line (channel, eventId, sender, conversationId, …). */
export type LogFields = Record<string, string | number | boolean | undefined>;

declare module 'fastify' {
  interface FastifyRequest {
    logFields: LogFields;
  }
}

/**
 * One JSON line per request, written when the response is sent. The URL is logged as its route
 * pattern, never with its query string or path tokens, which can carry keys.
 */
export function registerRequestLog(app: FastifyInstance, logger: Logger): void {
  app.decorateRequest('logFields', null as unknown as LogFields);
  // Callback-style hooks: they run on every request, and an async hook costs a promise each time.
  app.addHook('onRequest', (request, _reply, done) => {
    request.logFields = {};
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    if (logger.isLevelEnabled('info')) {
      logger.info(
        {
          method: request.method,
          route: request.routeOptions.url ?? 'unmatched',
          status: reply.statusCode,
          latencyMs: Math.round(reply.elapsedTime),
          ...request.logFields,
        },
        'request',
      );
    }
    done();
  });
}
