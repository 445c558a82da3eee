import Fastify, { type FastifyInstance } from 'fastify';
import type { AppContext } from './context.ts';
import { registerErrorHandling } from './plugins/errors.ts';
import { registerRequestLog } from './plugins/request-log.ts';
import { channelRoutes } from './routes/api/channels.ts';
import { eventRoutes } from './routes/api/events.ts';
import { messageRoutes } from './routes/api/messages.ts';
import { subscriptionRoutes } from './routes/api/subscriptions.ts';
import { webhookConfigRoutes } from './routes/api/webhook-config.ts';
import { healthRoutes } from './routes/health.ts';
import { inboundRoutes } from './routes/inbound.ts';

export function buildApp(ctx: AppContext): FastifyInstance {
  const { server } = ctx.config;
  const app = Fastify({
    // pino is ours (src/core/logger.ts); fastify's per-request lines are replaced by request-log.ts.
    logger: false,
    disableRequestLogging: true,
    bodyLimit: server.bodyLimitBytes,
    trustProxy: server.trustProxies.length > 0 ? server.trustProxies : false,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  });
  registerRequestLog(app, ctx.logger);
  registerErrorHandling(app, ctx.logger);
  // Each route module is its own encapsulated context: the inbound one swaps the body parsers.
  for (const routes of [healthRoutes, inboundRoutes, messageRoutes, subscriptionRoutes, eventRoutes, channelRoutes, webhookConfigRoutes]) {
    void app.register(async (scope) => routes(scope, ctx));
  }
  return app;
}
