import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { DEFAULT_RETRY_SCHEDULE } from '../../../config/schema.ts';
import { ImgateError } from '../../../core/errors.ts';
import { sendTestDelivery } from '../../../delivery/test-delivery.ts';
import { safeEqual } from '../../../platforms/_kit/timing-safe.ts';
import { findPlatform } from '../../../platforms/registry.ts';
import type { SubscriptionRecord } from '../../../store/store.ts';
import { shownUrl, unmaskedUrl } from '../../../subscriptions/from-config.ts';
import type { AppContext } from '../../context.ts';
import { bearerToken, requireAdmin } from '../../plugins/auth.ts';
import { validate } from '../../validate.ts';

/**
 * The WeChat webhook-configuration API of the webhook guide, with its own field names
 * (docs/channels/wechat-pad.md, "The webhook-configuration API"), kept as one subscription per
 * wechat-pad channel (`wechat-webhook-<channel>`). Such a subscription
 * signs like the guide (`padpro`) and forwards the pad server's JSON as received (`format: raw`).
 * Callers authenticate as the guide's do, with the account's `?key=` (the channel's WeChatPadPro
 * key), or with the admin token.
 */

const configSchema = z.object({
  URL: z.url({ protocol: /^https?$/, error: 'an http: or https: URL' }),
  Secret: z.string().min(1),
  Enabled: z.boolean().default(true),
  Timeout: z.number().int().min(1).max(60).default(10),
  RetryCount: z.number().int().min(0).max(10).default(3),
  MessageTypes: z.array(z.union([z.string(), z.number().int()]).transform(String)).optional(),
  IncludeSelfMessage: z.boolean().default(false),
});
const updateSchema = configSchema.partial();

interface WebhookQuery {
  key?: string;
  channel?: string;
}

function retrySchedule(count: number): number[] {
  return Array.from({ length: count }, (_, i) => DEFAULT_RETRY_SCHEDULE[Math.min(i, DEFAULT_RETRY_SCHEDULE.length - 1)] as number);
}

function toGuideFields(sub: SubscriptionRecord): Record<string, unknown> {
  return {
    URL: shownUrl(sub.url),
    Enabled: sub.enabled,
    Timeout: Math.round(sub.timeoutMs / 1000),
    RetryCount: sub.retrySchedule.length,
    MessageTypes: sub.messageTypes ?? [],
    IncludeSelfMessage: sub.includeSelf,
  };
}

export async function webhookConfigRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const adminCheck = requireAdmin(ctx.config.admin.token, ctx.store);
  // The channels of the platforms this API manages (wechat-pad), each with the key that authenticates calls about it.
  const padChannels = () =>
    [...ctx.channels.values()].flatMap((channel) => {
      const keyOf = findPlatform(channel.platform)?.webhookConfigKey;
      return keyOf ? [{ id: channel.id, key: keyOf(channel.config) }] : [];
    });

  /** The channel the call is about, after checking the caller may manage it. */
  async function resolveChannel(request: FastifyRequest<{ Querystring: WebhookQuery }>): Promise<string> {
    const { key, channel } = request.query;
    if (key !== undefined && !bearerToken(request)) {
      const owner = padChannels().find((c) => c.key !== null && safeEqual(c.key, key));
      if (!owner) throw new ImgateError('IMG_ERR_AUTH_INVALID', { message: 'no wechat-pad channel has this key' });
      return owner.id;
    }
    await adminCheck(request);
    const candidates = padChannels().filter((c) => channel === undefined || c.id === channel);
    if (candidates.length === 1) return (candidates[0] as { id: string }).id;
    throw new ImgateError(candidates.length === 0 ? 'IMG_ERR_NOT_FOUND' : 'IMG_ERR_VALIDATION', {
      message: candidates.length === 0 ? 'no such wechat-pad channel' : 'several wechat-pad channels: name one with ?channel=',
    });
  }

  const subscriptionId = (channelId: string) => `wechat-webhook-${channelId}`;

  async function save(channelId: string, input: z.infer<typeof configSchema>, createdAt?: number) {
    const current = await ctx.store.getSubscription(subscriptionId(channelId));
    if (current?.source === 'config') {
      throw new ImgateError('IMG_ERR_VALIDATION', { message: `subscription "${current.id}" comes from the config file; change it there` });
    }
    const now = Date.now();
    const record: SubscriptionRecord = {
      id: subscriptionId(channelId),
      url: input.URL,
      secrets: [input.Secret],
      signing: 'padpro',
      format: 'raw',
      channels: [channelId],
      messageTypes: input.MessageTypes && input.MessageTypes.length > 0 ? input.MessageTypes : null,
      includeSelf: input.IncludeSelfMessage,
      groups: 'all',
      enabled: input.Enabled,
      timeoutMs: input.Timeout * 1000,
      retrySchedule: retrySchedule(input.RetryCount),
      includeRaw: false,
      ordering: 'none',
      pull: false,
      source: 'api',
      createdAt: createdAt ?? now,
      updatedAt: now,
    };
    await ctx.store.upsertSubscription(record);
    await ctx.subscriptions.load();
    return { Code: 200, Data: toGuideFields(record), Text: '' };
  }

  async function existing(channelId: string): Promise<SubscriptionRecord> {
    const sub = await ctx.store.getSubscription(subscriptionId(channelId));
    if (!sub) throw new ImgateError('IMG_ERR_NOT_FOUND', { message: 'no webhook is configured for this channel' });
    return sub;
  }

  app.post<{ Querystring: WebhookQuery }>('/v1/webhook/Config', async (request) => {
    const channelId = await resolveChannel(request);
    return save(channelId, validate(configSchema, request.body));
  });

  app.get<{ Querystring: WebhookQuery }>('/v1/webhook/List', async (request) => {
    const channelId = await resolveChannel(request);
    const sub = await ctx.store.getSubscription(subscriptionId(channelId));
    return { Code: 200, Data: sub ? [toGuideFields(sub)] : [], Text: '' };
  });

  app.put<{ Querystring: WebhookQuery }>('/v1/webhook/Update', async (request) => {
    const channelId = await resolveChannel(request);
    const sub = await existing(channelId);
    // Only the fields the caller sent: the partial schema would otherwise fill in every default.
    const sent = (request.body ?? {}) as Record<string, unknown>;
    const changes = Object.fromEntries(Object.entries(validate(updateSchema, sent)).filter(([field]) => field in sent));
    const merged = validate(configSchema, {
      URL: sub.url,
      Secret: sub.secrets[0],
      Enabled: sub.enabled,
      Timeout: Math.round(sub.timeoutMs / 1000),
      RetryCount: sub.retrySchedule.length,
      MessageTypes: sub.messageTypes ?? undefined,
      IncludeSelfMessage: sub.includeSelf,
      ...changes,
      ...(typeof changes.URL === 'string' ? { URL: unmaskedUrl(changes.URL, sub.url) } : {}),
    });
    return save(channelId, merged, sub.createdAt);
  });

  app.get<{ Querystring: WebhookQuery }>('/v1/webhook/Test', async (request) => {
    const channelId = await resolveChannel(request);
    const result = await sendTestDelivery(ctx.store, ctx.worker, await existing(channelId), (ids) => ctx.pullWakeups.announce(ids));
    const status = result.attempt?.statusCode ?? null;
    return {
      Code: status !== null && status >= 200 && status < 300 ? 200 : 502,
      Data: { deliveryId: result.deliveryId, statusCode: status, latencyMs: result.attempt?.latencyMs ?? null, error: result.attempt?.error ?? null },
      Text: '',
    };
  });
}
