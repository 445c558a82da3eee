import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.ts';
import { requireAdmin } from '../../plugins/auth.ts';

/**
 * `GET /v1/channels`: each enabled channel's status, and for a long connection the node that holds
 * it. Config secrets are never shown.
 */
export async function channelRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.addHook('preHandler', requireAdmin(ctx.config.admin.token, ctx.store));
  app.get('/v1/channels', async () => {
    const holders = new Map((await ctx.store.listLeases()).map((lease) => [lease.name, lease.holder]));
    return {
      data: [...ctx.channels.values()].map((channel) => ({
        id: channel.id,
        platform: channel.platform,
        canSend: Boolean(channel.adapter.send),
        ...channel.status,
        // `connected` is this node's view; the connection may be held by another node of the cluster.
        ...(channel.adapter.connect ? { heldBy: holders.get(`connection:${channel.id}`) ?? null } : {}),
      })),
    };
  });
}
