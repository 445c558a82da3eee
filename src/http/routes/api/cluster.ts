import type { FastifyInstance } from 'fastify';
import { isAlive } from '../../../runtime/cluster.ts';
import type { AppContext } from '../../context.ts';
import { clusterAnswer } from '../../openapi/answers.ts';
import { ADMIN_TOKEN } from '../../openapi/document.ts';
import { ADMIN_ERRORS, errorResponses, noQuery } from '../../openapi/responses.ts';
import { requireAdmin } from '../../plugins/auth.ts';

/**
 * `GET /v1/cluster`: the nodes sharing this store with their roles and last heartbeat, and which
 * node holds which lease (`connection:<channel>`, `poller:<channel>`, `retention`). Times are the
 * store's clock.
 */
export async function clusterRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.addHook('preValidation', requireAdmin(ctx.config.admin.token, ctx.store));
  const schema = {
    security: ADMIN_TOKEN,
    tags: ['cluster'],
    summary: "The nodes sharing this store and the leases they hold",
    querystring: noQuery,
    response: { 200: clusterAnswer, ...errorResponses(...ADMIN_ERRORS, 'IMG_ERR_VALIDATION') },
  };
  app.get('/v1/cluster', { schema }, async () => {
    const [{ now, nodes }, leases] = await Promise.all([ctx.store.listNodes(), ctx.store.listLeases()]);
    return {
      node: ctx.node.id,
      store: ctx.store.engine,
      now: new Date(now).toISOString(),
      nodes: nodes.map((node) => ({
        id: node.id,
        roles: node.roles,
        alive: isAlive(ctx.node, node.lastHeartbeatAt, now),
        startedAt: new Date(node.startedAt).toISOString(),
        lastHeartbeatAt: new Date(node.lastHeartbeatAt).toISOString(),
      })),
      leases: leases.map((lease) => ({
        name: lease.name,
        holder: lease.holder,
        acquiredAt: new Date(lease.acquiredAt).toISOString(),
        expiresAt: new Date(lease.expiresAt).toISOString(),
      })),
    };
  });
}
