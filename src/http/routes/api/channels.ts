import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.ts';
import { channelsAnswer } from '../../openapi/answers.ts';
import { ADMIN_TOKEN } from '../../openapi/document.ts';
import { ADMIN_ERRORS, errorResponses, noQuery } from '../../openapi/responses.ts';
import { requireAdmin } from '../../plugins/auth.ts';

/**
 * `GET /v1/channels`: each enabled channel's status, and for a long connection the node that holds
 * it. Config secrets are never shown.
 */
export async function channelRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.addHook('preValidation', requireAdmin(ctx.config.admin.token, ctx.store));
  const schema = {
    security: ADMIN_TOKEN,
    tags: ['channels'],
    summary: "Each enabled channel's status",
    querystring: noQuery,
    response: { 200: channelsAnswer, ...errorResponses(...ADMIN_ERRORS, 'IMG_ERR_VALIDATION') },
  };
  app.get('/v1/channels', { schema }, async () => {
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
