import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../context.ts';

export async function healthRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  /** Liveness: the process answers. */
  app.get('/healthz', async () => ({ status: 'ok' }));

  /** Readiness: the store answers and the gateway is not shutting down. */
  app.get('/readyz', async (_request, reply) => {
    if (ctx.lifecycle.shuttingDown) return reply.status(503).send({ status: 'shutting_down' });
    try {
      await ctx.store.getCursor('_readyz', 'probe');
      return { status: 'ready' };
    } catch {
      return reply.status(503).send({ status: 'store_unavailable' });
    }
  });
}
