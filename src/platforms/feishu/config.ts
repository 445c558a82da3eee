import { z } from 'zod';
import { configNumber } from '../../core/env-scalars.ts';
import { channelBaseSchema } from '../_kit/channel-config.ts';

/** The two names of one platform, which differ only in their API host (larksuite/node-sdk, `utils/format-domain.ts`). */
export type FeishuPlatformId = 'feishu' | 'lark';

/** Each platform's API host, used when the channel sets no `apiBase` (the SDK's `Domain.Feishu`/`Domain.Lark`). */
export const FEISHU_API_BASES: Record<FeishuPlatformId, string> = {
  feishu: 'https://open.feishu.cn',
  lark: 'https://open.larksuite.com',
};

/**
 * Feishu allows 5 messages a second to one chat, shared by every bot in it (发送消息,
 * https://open.feishu.cn/document/uAjLw4CM/ukTMukTMukTM/reference/im-v1/message/create). Sends
 * beyond that queue here instead of coming back as Feishu's 230020.
 */
const rateLimitSchema = z
  .strictObject({
    messages: configNumber(z.number().int().positive())
      .default(5)
      .describe('Messages the app may send to one chat in any `perSeconds` window (Feishu: 5 a second per chat).'),
    perSeconds: configNumber(z.number().int().positive()).default(1).describe('The window of `messages`, in seconds.'),
    // At most 60, as for WeCom robots: a waiting send holds its idempotency claim, which another
    // node takes over as abandoned after two minutes (src/outbound/send-service.ts).
    maxWaitSeconds: configNumber(z.number().int().min(0).max(60))
      .default(10)
      .describe(
        'A send beyond the limit waits for a free slot in arrival order, unless its turn would come later than this: then it gets 429 `IMG_ERR_SEND_RATE_LIMITED` with `retry_after`. 0: never wait.',
      ),
  })
  .prefault({})
  .describe("imgate's own limit on sends per chat (per `to`), so Feishu never has to refuse one.");

/** An App ID as Feishu issues them; the SDK's long-connection client checks this shape before connecting. */
const FEISHU_APP_ID = /^cli_[0-9a-fA-F]{16}$/;

function feishuSchema<P extends FeishuPlatformId>(platform: P, title: string) {
  return channelBaseSchema
    .extend({
      platform: z.literal(platform).describe(title),
      mode: z
        .enum(['webhook', 'websocket'])
        .default('webhook')
        .describe(
          '`webhook`: Feishu posts events to `/hooks/<id>` (event subscription by request URL). `websocket`: imgate holds Feishu\'s long connection (长连接) and takes the events from it, no public URL needed.',
        ),
      gatewayUrl: z
        .url()
        .optional()
        .describe('`websocket` mode: the host asked for the long connection (`POST {gatewayUrl}/callback/ws/endpoint`). Unset: the API host (`apiBase`).'),
      appId: z
        .string()
        .min(1)
        .describe('The App ID (`cli_…`, 凭证与基础信息 in the developer console). In `websocket` mode it must read `cli_` and 16 hex digits, as Feishu issues them.'),
      appSecret: z.string().min(1).describe('The App Secret, which gets `tenant_access_token`s to send.'),
      encryptKey: z
        .string()
        .min(1)
        .optional()
        .describe(
          'The Encrypt Key (事件与回调 → 加密策略): decrypts `{"encrypt": …}` bodies and checks `X-Lark-Signature`. When set, every event must be signed (unsigned ones get 401); only the URL check may come unsigned.',
        ),
      verificationToken: z
        .string()
        .min(1)
        .optional()
        .describe(
          'The Verification Token (事件与回调 → 加密策略). When set, every event and URL check must carry it. Set it, or `encryptKey`, or both: without either anyone can post events (warned at start). Not used in `websocket` mode, whose connection is opened with the App Secret.',
        ),
      botOpenId: z
        .string()
        .min(1)
        .optional()
        .describe(
          "The bot's own open_id (`ou_…`), which tells mentions of the bot and its own messages apart. Unset: imgate asks Feishu (`GET /open-apis/bot/v3/info`) at start.",
        ),
      tokenUrl: z
        .url()
        .optional()
        .describe(
          'Take `tenant_access_token`s from this service instead of Feishu: POSTed `{app_id, app_secret}` (plus `invalid_token` when Feishu just refused that token), it answers like `auth/v3/tenant_access_token/internal` (`{code: 0, tenant_access_token, expire}`).',
        ),
      timestampWindowSeconds: configNumber(z.number().int().min(0))
        .default(300)
        .describe('How far a signed event\'s `X-Lark-Request-Timestamp` may be from now; 0 turns the check off.'),
      rateLimit: rateLimitSchema,
    })
    .refine((config) => config.mode !== 'websocket' || FEISHU_APP_ID.test(config.appId), {
      path: ['appId'],
      // The SDK's WSClient would refuse it only in a log line and never connect.
      message: 'websocket mode needs an App ID of the form cli_ and 16 hex digits, as Feishu issues them',
    })
    .describe(
      `${title} Receives events as event subscription 2.0 callbacks (URL check, encryption, signature, verification token) or over the long connection, and sends with \`im/v1/messages\`. See docs/channels/feishu.md.`,
    );
}

export const feishuChannelSchema = feishuSchema('feishu', 'A Feishu (飞书) app with its bot, on open.feishu.cn.');
export const larkChannelSchema = feishuSchema('lark', 'A Lark app with its bot (Feishu outside China), on open.larksuite.com.');

export type FeishuChannelConfig = z.infer<typeof feishuChannelSchema> | z.infer<typeof larkChannelSchema>;

/** The API host of a channel: its `apiBase`, else its platform's, without a trailing slash. */
export function feishuApiBase(config: Pick<FeishuChannelConfig, 'platform' | 'apiBase'>): string {
  return (config.apiBase ?? FEISHU_API_BASES[config.platform]).replace(/\/+$/, '');
}

/** The host of `/callback/ws/endpoint`: the channel's `gatewayUrl`, else its API host, without a trailing slash. */
export function feishuGatewayBase(config: Pick<FeishuChannelConfig, 'platform' | 'apiBase' | 'gatewayUrl'>): string {
  return config.gatewayUrl?.replace(/\/+$/, '') ?? feishuApiBase(config);
}
