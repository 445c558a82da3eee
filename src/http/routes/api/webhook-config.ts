import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { partialUpdateFields } from '../../../config/partial-update.ts';
import { DEFAULT_RETRY_SCHEDULE } from '../../../config/schema.ts';
import { ImgateError, type ErrorCode } from '../../../core/errors.ts';
import { sendTestDelivery } from '../../../delivery/test-delivery.ts';
import { safeEqual } from '../../../platforms/_kit/timing-safe.ts';
import { findPlatform } from '../../../platforms/registry.ts';
import type { SubscriptionRecord } from '../../../store/store.ts';
import { shownUrl, unmaskedUrl } from '../../../subscriptions/from-config.ts';
import type { AppContext } from '../../context.ts';
import { guideAnswer } from '../../openapi/answers.ts';
import { ADMIN_TOKEN } from '../../openapi/document.ts';
import { ADMIN_ERRORS, BODY_ERRORS, errorResponses } from '../../openapi/responses.ts';
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
// Only the fields the caller sent: `.partial()` would fill in every default.
const updateSchema = z.object(partialUpdateFields(configSchema.shape));

// Not strict, unlike imgate's own routes: the guide's clients are not ours, and may send more.
const webhookQuery = z.object({
  key: z.string().optional().describe("The channel's WeChatPadPro key, instead of the admin token."),
  channel: z.string().optional().describe('The wechat-pad channel, with the admin token, when there are several.'),
});

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

export async function webhookConfigRoutes(scope: FastifyInstance, ctx: AppContext): Promise<void> {
  const app = scope.withTypeProvider<ZodTypeProvider>();
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

  // Before the body is validated: without a credential, nobody learns what the route takes.
  const resolved = new WeakMap<FastifyRequest, string>();
  app.addHook('preValidation', async (request) => {
    resolved.set(request, await resolveChannel(request as FastifyRequest<{ Querystring: WebhookQuery }>));
  });
  const channelOf = (request: FastifyRequest) => resolved.get(request) as string;

  const security = [...ADMIN_TOKEN, { padKey: [] }];
  const tags = ['webhook-config'];
  const channelErrors: ErrorCode[] = [...ADMIN_ERRORS, 'IMG_ERR_VALIDATION', 'IMG_ERR_NOT_FOUND'];
  const schema = (summary: string, codes: ErrorCode[] = channelErrors) => ({
    security,
    tags,
    summary,
    querystring: webhookQuery,
    response: { 200: guideAnswer(z.unknown()).describe("The guide's envelope: `Code`, `Data`, `Text`."), ...errorResponses(...codes) },
  });

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

  app.post('/v1/webhook/Config', { schema: { ...schema("Set the channel's webhook", [...channelErrors, ...BODY_ERRORS]), body: configSchema } }, async (request) => {
    return save(channelOf(request), request.body);
  });

  app.get('/v1/webhook/List', { schema: schema("The channel's webhook, if any") }, async (request) => {
    const channelId = channelOf(request);
    const sub = await ctx.store.getSubscription(subscriptionId(channelId));
    return { Code: 200, Data: sub ? [toGuideFields(sub)] : [], Text: '' };
  });

  app.put('/v1/webhook/Update', { schema: { ...schema("Change some fields of the channel's webhook", [...channelErrors, ...BODY_ERRORS]), body: updateSchema } }, async (request) => {
    const channelId = channelOf(request);
    const sub = await existing(channelId);
    const changes = request.body;
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

  app.get('/v1/webhook/Test', { schema: schema("Send a test delivery to the channel's webhook") }, async (request) => {
    const channelId = channelOf(request);
    const result = await sendTestDelivery(ctx.store, ctx.worker, await existing(channelId), (ids) => ctx.pullWakeups.announce(ids));
    const status = result.attempt?.statusCode ?? null;
    return {
      Code: status !== null && status >= 200 && status < 300 ? 200 : 502,
      Data: { deliveryId: result.deliveryId, statusCode: status, latencyMs: result.attempt?.latencyMs ?? null, error: result.attempt?.error ?? null },
      Text: '',
    };
  });
}
