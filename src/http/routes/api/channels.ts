import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../../context.ts';
import { requireAdmin } from '../../plugins/auth.ts';

/** `GET /v1/channels`: each enabled channel's status. Config secrets are never shown. */
export async function channelRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.addHook('preHandler', requireAdmin(ctx.config.admin.token));
  app.get('/v1/channels', async () => ({
    data: [...ctx.channels.values()].map((channel) => ({
      id: channel.id,
      platform: channel.platform,
      canSend: Boolean(channel.adapter.send),
      ...channel.status,
    })),
  }));
}
