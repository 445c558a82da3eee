import type { FastifyInstance } from 'fastify';
import { ImgateError } from '../../../core/errors.ts';
import type { ChannelLogin } from '../../../platforms/_kit/adapter.ts';
import type { AppContext } from '../../context.ts';
import { channelsAnswer, loginAnswer, loginStateAnswer } from '../../openapi/answers.ts';
import { ADMIN_TOKEN } from '../../openapi/document.ts';
import { ADMIN_ERRORS, errorResponses, idParams, noQuery } from '../../openapi/responses.ts';
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
      data: await Promise.all(
        [...ctx.channels.values()].map(async (channel) => ({
          id: channel.id,
          platform: channel.platform,
          canSend: Boolean(channel.adapter.send),
          ...channel.status,
          // `connected` is this node's view; the connection may be held by another node of the cluster.
          ...(channel.adapter.connect ? { heldBy: holders.get(`connection:${channel.id}`) ?? null } : {}),
          // From the store, so every node answers the same.
          ...(channel.adapter.login ? { needsLogin: await channel.adapter.login.needed() } : {}),
        })),
      ),
    };
  });

  // A channel bound by a person scanning a QR code (wechat-ilink): start a login, then poll its state.
  const login = { security: ADMIN_TOKEN, tags: ['channels'], params: idParams, querystring: noQuery };
  const loginErrors = errorResponses(...ADMIN_ERRORS, 'IMG_ERR_VALIDATION', 'IMG_ERR_NOT_FOUND');
  const startSchema = {
    ...login,
    summary: 'Start a QR-code login (wechat-ilink)',
    response: { 200: loginAnswer, ...errorResponses(...ADMIN_ERRORS, 'IMG_ERR_VALIDATION', 'IMG_ERR_NOT_FOUND', 'IMG_ERR_SECRET_KEY_MISSING', 'IMG_ERR_PLATFORM_REJECTED', 'IMG_ERR_PLATFORM_UNREACHABLE') },
  };
  const viewSchema = { ...login, summary: "The latest login's state", response: { 200: loginStateAnswer, ...loginErrors } };
  app.post<{ Params: { id: string } }>('/v1/channels/:id/login', { schema: startSchema }, async (request) => ({ login: await loginOf(ctx, request.params.id).start() }));
  app.get<{ Params: { id: string } }>('/v1/channels/:id/login', { schema: viewSchema }, async (request) => ({ login: await loginOf(ctx, request.params.id).view() }));
}

function loginOf(ctx: AppContext, id: string): ChannelLogin {
  const login = ctx.channels.get(id)?.adapter.login;
  if (login === undefined) {
    throw new ImgateError('IMG_ERR_NOT_FOUND', { message: ctx.channels.has(id) ? `channel ${id} has no login (only wechat-ilink channels do)` : `no enabled channel ${id}`, details: { channel: id } });
  }
  return login;
}
