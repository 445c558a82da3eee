import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { ImgateError } from '../../core/errors.ts';
import { compileAllowList } from '../../core/ip-allow-list.ts';
import { parseJsonBody } from '../../platforms/_kit/json-body.ts';
import { safeEqual } from '../../platforms/_kit/timing-safe.ts';
import { wecomTokenSource, type WecomCredential } from '../../platforms/_kit/wecom-api.ts';
import { answerWecomUrlCheck, openWecomCallback, WECOM_ACK, type WecomCallbackKeys } from '../../platforms/_kit/wecom-callback.ts';
import { findPlatform } from '../../platforms/registry.ts';
import { recordChannelError, type ChannelRuntime } from '../../runtime/channels.ts';
import { kfNoticeEvent } from '../../wxkf-manager/kf-notice.ts';
import { deregisterPuppet, registeredPuppet, registerPuppet } from '../../wxkf-manager/puppets.ts';
import { bearerToken, requireAdmin } from '../plugins/auth.ts';
import { inboundRequestOf, keepBodiesRaw, sendReply } from '../inbound-request.ts';
import type { AppContext } from '../context.ts';
import { validate } from '../validate.ts';

/**
 * The WeCom customer-service manager contract (juzibot/wxkf-manager; docs/wxkf-manager.md): one
 * callback URL per corp, dispatched by OpenKfId to the puppet registered for it, or, when none is,
 * handled by the corp's `wecom-kf` channel itself (which pulls the messages). Puppets get their
 * callbacks through the delivery engine, so retries and the attempt log apply.
 */

interface CorpParams {
  corpId: string;
}

const decryptedNoticeSchema = z.object({
  token: z.string().min(1),
  openKfId: z.string().min(1),
});

const puppetBodySchema = z.looseObject({
  kfId: z.string().min(1),
  endpoint: z.url({ protocol: /^https?$/ }).optional(),
  corpId: z.string().min(1).optional(),
  corpSecret: z.string().min(1).optional(),
});

const getTokenQuerySchema = z.object({
  corpid: z.string().min(1),
  corpsecret: z.string().min(1),
  /** A token WeCom refused (40014/42001) to the caller: renewed here rather than handed out again. */
  invalid_token: z.string().min(1).optional(),
});

/** `GET|POST /callback/:corpId` and `POST /callback/decrypted/:corpId`: bodies kept raw. */
export async function wxkfCallbackRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  keepBodiesRaw(app);
  // Counted as the corp's channel, as /hooks/<id> would be; a corp no channel has as `_unknown`.
  app.addHook('onResponse', (request, reply, done) => {
    ctx.metrics.inboundRequest(typeof request.logFields.channel === 'string' ? request.logFields.channel : '_unknown', reply.statusCode);
    done();
  });
  const allowLists = new Map<string, (address: string) => boolean>();
  for (const channel of kfChannels(ctx)) {
    if (channel.config.allowIps) allowLists.set(channel.id, compileAllowList(channel.config.allowIps));
  }
  const corpChannel = (request: FastifyRequest<{ Params: CorpParams }>): KfChannel => {
    const channel = kfChannelOfCorp(ctx, request.params.corpId);
    request.logFields.channel = channel.id;
    const allowed = allowLists.get(channel.id);
    if (allowed && !allowed(request.ip)) throw new ImgateError('IMG_ERR_IP_NOT_ALLOWED');
    return channel;
  };

  app.get<{ Params: CorpParams }>('/callback/:corpId', async (request, reply) => {
    const channel = corpChannel(request);
    return sendReply(reply, answerWecomUrlCheck(channel.callbackKeys, inboundRequestOf(request, undefined)));
  });

  app.post<{ Params: CorpParams }>('/callback/:corpId', async (request, reply) => {
    const channel = corpChannel(request);
    const inbound = inboundRequestOf(request, undefined);
    try {
      const opened = openWecomCallback(channel.callbackKeys, inbound);
      const { Event: event, OpenKfId: openKfId, Token: token } = opened.message;
      const puppet =
        event === 'kf_msg_or_event' && typeof openKfId === 'string' ? registeredPuppet(ctx.subscriptions, channel.id, openKfId, 'callback') : null;
      if (puppet === null || typeof openKfId !== 'string' || typeof token !== 'string') {
        // No puppet for this account: the channel takes the callback as if it came to /hooks/<id>.
        const result = await ctx.pipeline.handleCallback(channel, inbound);
        return sendReply(reply, result.reply);
      }
      const notice = kfNoticeEvent({
        corpId: channel.credential.corpId,
        openKfId,
        token,
        createdAt: inbound.receivedAt,
        raw: opened.message,
        // The puppet parses only `application/xml` (what the reference manager forwards), whatever WeCom sent.
        rawRequest: { ...opened.rawRequest, contentType: 'application/xml' },
      });
      const [outcome] = await ctx.pipeline.ingest(channel, [notice], inbound.rawBody, inbound.receivedAt, { targets: [puppet] });
      Object.assign(request.logFields, { eventId: outcome?.eventId, dedup: outcome?.status === 'duplicate', puppet: openKfId });
      return sendReply(reply, WECOM_ACK);
    } catch (error) {
      recordChannelError(channel.status, error);
      throw error;
    }
  });

  // For a gateway in front that already decrypted the callback; it authenticates as the admin.
  app.post<{ Params: CorpParams }>('/callback/decrypted/:corpId', async (request, reply) => {
    await requireAdmin(ctx.config.admin.token, ctx.store)(request);
    const channel = corpChannel(request);
    const rawBody = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const notice = validate(decryptedNoticeSchema, parseJsonBody(rawBody));
    const puppet = registeredPuppet(ctx.subscriptions, channel.id, notice.openKfId, 'decrypted');
    if (puppet === null) {
      if (!channel.adapter.pullKfAccount) throw new ImgateError('IMG_ERR_INTERNAL');
      channel.adapter.pullKfAccount(notice.openKfId, notice.token);
    } else {
      const receivedAt = new Date();
      const event = kfNoticeEvent({
        corpId: channel.credential.corpId,
        ...notice,
        createdAt: receivedAt,
        raw: notice,
        rawRequest: { contentType: 'application/json', query: '' },
      });
      await ctx.pipeline.ingest(channel, [event], rawBody, receivedAt, { targets: [puppet] });
    }
    // What wxkf-manager answers here.
    return reply.type('text/plain; charset=utf-8').send('roger');
  });
}

/** `/puppetWxkfManager/register|deregister|getToken`. */
export async function wxkfManagerRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.post('/puppetWxkfManager/register', async (request) => {
    const body = validate(puppetBodySchema, request.body);
    if (!body.endpoint) throw new ImgateError('IMG_ERR_VALIDATION', { message: 'endpoint: required', details: { field: 'endpoint' } });
    const channel = await authorizePuppet(ctx, request, body);
    await registerPuppet(ctx.store, ctx.subscriptions, { channelId: channel.id, kfId: body.kfId, endpoint: body.endpoint });
    ctx.logger.info({ channel: channel.id, kfId: body.kfId }, 'KF puppet registered');
    return { code: 0, message: 'success' };
  });

  app.post('/puppetWxkfManager/deregister', async (request) => {
    const body = validate(puppetBodySchema, request.body);
    const channel = await authorizeDeregister(ctx, request, body);
    const removed = await deregisterPuppet(ctx.store, ctx.subscriptions, channel.id, body.kfId);
    if (!removed) throw new ImgateError('IMG_ERR_NOT_FOUND', { message: 'no puppet is registered for this kfId' });
    ctx.logger.info({ channel: channel.id, kfId: body.kfId }, 'KF puppet deregistered');
    return { code: 0, message: 'success' };
  });

  // Puppets never call gettoken themselves: they get the token imgate caches, answered like gettoken.
  app.get('/puppetWxkfManager/getToken', async (request) => {
    const query = validate(getTokenQuerySchema, request.query);
    const credential = credentialOfCorp(ctx, query.corpid, query.corpsecret);
    const source = wecomTokenSource(credential);
    if (query.invalid_token !== undefined) await ctx.tokens.invalidate(source, query.invalid_token);
    const lease = await ctx.tokens.lease(source, query.invalid_token);
    return {
      errcode: 0,
      errmsg: 'ok',
      access_token: lease.value,
      // Never 0: a node taking this as its tokenUrl refuses a token without lifetime.
      expires_in: Math.max(1, Math.floor((lease.expiresAt - Date.now()) / 1000)),
    };
  });
}

/** A channel the manager contract serves (a platform with the `kfManager` capability: wecom-kf), with its corp. */
interface KfChannel extends ChannelRuntime {
  credential: WecomCredential;
  callbackKeys: WecomCallbackKeys;
}

/** The channels of platforms that have this capability, with what it gives. */
function channelsWith<T>(ctx: AppContext, capability: (channel: ChannelRuntime) => T | undefined): (ChannelRuntime & T)[] {
  return [...ctx.channels.values()].flatMap((channel) => {
    const given = capability(channel);
    return given === undefined ? [] : [{ ...channel, ...given }];
  });
}

function kfChannels(ctx: AppContext): KfChannel[] {
  return channelsWith(ctx, (channel) => {
    const platform = findPlatform(channel.platform);
    if (!platform?.kfManager || !platform.wecomCredential) return undefined;
    return { credential: platform.wecomCredential(channel.config), callbackKeys: platform.kfManager(channel.config).callbackKeys };
  });
}

function kfChannelOfCorp(ctx: AppContext, corpId: string): KfChannel {
  const channel = kfChannels(ctx).find((candidate) => candidate.credential.corpId === corpId);
  if (!channel) throw new ImgateError('IMG_ERR_INBOUND_UNKNOWN_CHANNEL', { message: 'no enabled wecom-kf channel has this corpId' });
  return channel;
}

/**
 * Register and deregister take the admin token, or the corp's customer-service secret in the body
 * (which is what wechaty-puppet-wxkf sends: it knows no imgate token).
 */
async function authorizePuppet(ctx: AppContext, request: FastifyRequest, body: z.infer<typeof puppetBodySchema>): Promise<KfChannel> {
  const channels = kfChannels(ctx);
  const channel = body.corpId ? channels.find((candidate) => candidate.credential.corpId === body.corpId) : channels.length === 1 ? channels[0] : undefined;
  if (!channel) {
    throw new ImgateError('IMG_ERR_NOT_FOUND', {
      message: body.corpId ? 'no enabled wecom-kf channel has this corpId' : 'corpId is required when several wecom-kf channels are configured',
    });
  }
  if (bearerToken(request) !== undefined) {
    await requireAdmin(ctx.config.admin.token, ctx.store)(request);
    return channel;
  }
  if (!body.corpSecret) throw new ImgateError('IMG_ERR_AUTH_MISSING', { message: 'an admin Bearer token or the corp\'s corpSecret is required' });
  if (!safeEqual(body.corpSecret, channel.credential.corpSecret)) throw new ImgateError('IMG_ERR_AUTH_INVALID');
  return channel;
}

/**
 * Deregistering takes what register takes, or, as wechaty-puppet-wxkf sends it on stop and as the
 * reference manager accepts it, just the `kfId` and `corpId` of a puppet registered there: a stopped
 * puppet must be able to hand its account back to the channel without a secret.
 */
async function authorizeDeregister(ctx: AppContext, request: FastifyRequest, body: z.infer<typeof puppetBodySchema>): Promise<KfChannel> {
  if (bearerToken(request) !== undefined || body.corpSecret !== undefined || body.corpId === undefined) return authorizePuppet(ctx, request, body);
  const channel = kfChannels(ctx).find((candidate) => candidate.credential.corpId === body.corpId);
  if (!channel || registeredPuppet(ctx.subscriptions, channel.id, body.kfId, 'callback') === null) {
    throw new ImgateError('IMG_ERR_NOT_FOUND', { message: 'no puppet is registered for this kfId in this corp' });
  }
  return channel;
}

/** The credential of a WeCom channel (app or customer service) of this corp whose secret matches. */
function credentialOfCorp(ctx: AppContext, corpId: string, corpSecret: string): WecomCredential {
  const channels = channelsWith(ctx, (channel) => {
    const credentialOf = findPlatform(channel.platform)?.wecomCredential;
    return credentialOf ? { credential: credentialOf(channel.config) } : undefined;
  });
  const match = channels.find(({ credential }) => credential.corpId === corpId && safeEqual(corpSecret, credential.corpSecret));
  if (!match) throw new ImgateError('IMG_ERR_AUTH_INVALID', { message: 'no WeCom channel of this corp has this secret' });
  return match.credential;
}
