import Fastify, { type FastifyInstance } from 'fastify';
import { ImgateError } from '../core/errors.ts';
import type { AppContext } from './context.ts';
import { documentingSerializerCompiler, zodValidatorCompiler } from './openapi/compilers.ts';
import { registerOpenApi } from './openapi/document.ts';
import { registerErrorHandling } from './plugins/errors.ts';
import { registerRequestLog } from './plugins/request-log.ts';
import { channelRoutes } from './routes/api/channels.ts';
import { clusterRoutes } from './routes/api/cluster.ts';
import { eventRoutes } from './routes/api/events.ts';
import { messageRoutes } from './routes/api/messages.ts';
import { pullRoutes } from './routes/api/pull.ts';
import { subscriptionRoutes } from './routes/api/subscriptions.ts';
import { webhookConfigRoutes } from './routes/api/webhook-config.ts';
import { consoleRoutes } from './routes/console.ts';
import { healthRoutes } from './routes/health.ts';
import { inboundRoutes } from './routes/inbound.ts';
import { metricsRoutes } from './routes/metrics.ts';
import { wxkfCallbackRoutes, wxkfManagerRoutes } from './routes/wxkf-manager.ts';

export function buildApp(ctx: AppContext): FastifyInstance {
  const { server } = ctx.config;
  const app = Fastify({
    // pino is ours (src/core/logger.ts); request-log.ts writes the per-request lines.
    logger: false,
    bodyLimit: server.bodyLimitBytes,
    trustProxy: server.trustProxies.length > 0 ? server.trustProxies : false,
    // Our own hook answers 503 during shutdown, in the catalogue's shape (fastify's would not be).
    return503OnClosing: false,
    forceCloseConnections: 'idle',
  });
  registerRequestLog(app, ctx.logger);
  registerErrorHandling(app, ctx.logger);
  // A request whose headers arrived before the shutdown began is in flight and is finished.
  app.addHook('onRequest', (_request, _reply, done) => {
    done(ctx.lifecycle.shuttingDown ? new ImgateError('IMG_ERR_SHUTTING_DOWN') : undefined);
  });
  // Without this a keep-alive connection that finishes its last request during the shutdown stays
  // open for the whole keep-alive timeout (72 s in fastify), and so does the shutdown.
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (ctx.lifecycle.shuttingDown) reply.header('connection', 'close');
    done(null, payload);
  });
  // Route schemas are zod schemas: they validate requests and make /openapi.json.
  app.setValidatorCompiler(zodValidatorCompiler);
  app.setSerializerCompiler(documentingSerializerCompiler);
  registerOpenApi(app);
  // Each route module is its own encapsulated context: the inbound one swaps the body parsers. A
  // node without the http role serves only what operations need.
  const operations = [healthRoutes, clusterRoutes, metricsRoutes];
  const api = [inboundRoutes, messageRoutes, subscriptionRoutes, pullRoutes, eventRoutes, channelRoutes, webhookConfigRoutes, wxkfCallbackRoutes, wxkfManagerRoutes, consoleRoutes];
  for (const routes of ctx.config.roles.includes('http') ? [...operations, ...api] : operations) {
    void app.register(async (scope) => routes(scope, ctx));
  }
  return app;
}
