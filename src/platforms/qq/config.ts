import { z } from 'zod';
import { configNumber } from '../../core/env-scalars.ts';
import { channelBaseSchema } from '../_kit/channel-config.ts';

export const QQ_API_BASE = 'https://api.sgroup.qq.com';
export const QQ_TOKEN_BASE = 'https://bots.qq.com';

/**
 * The events a websocket-mode connection would ask for: GROUP_AND_C2C_EVENT (1 << 25), DIRECT_MESSAGE
 * (1 << 12) and PUBLIC_GUILD_MESSAGES (1 << 30), the intents behind the four message events imgate
 * normalizes (event-emit.md, "事件订阅Intents").
 */
export const QQ_DEFAULT_INTENTS = (1 << 25) | (1 << 12) | (1 << 30);

/**
 * A QQ bot of the official bot platform (QQ机器人开放平台, q.qq.com; https://bot.q.qq.com/wiki/):
 * its webhook callbacks are signed with Ed25519 keys derived from the bot's secret, and sends use the app's
 * access token (`bots.qq.com/app/getAppAccessToken`).
 */
export const qqChannelSchema = channelBaseSchema
  .extend({
    platform: z.literal('qq').describe('A QQ bot (QQ机器人) of the official bot platform, q.qq.com.'),
    mode: z
      .enum(['webhook', 'websocket'])
      .default('webhook')
      .describe(
        '`webhook`: QQ posts events to `/hooks/<id>` (回调地址). `websocket`: imgate holds QQ\'s gateway connection (the older way, being retired by QQ; no public URL needed).',
      ),
    appId: z.string().min(1).describe("The bot's AppID (开发设置 in the q.qq.com console)."),
    secret: z
      .string()
      .min(1)
      .describe("The bot's AppSecret: derives the Ed25519 key that signs every callback and gets access tokens. A secret."),
    intents: configNumber(z.number().int().min(0))
      .default(QQ_DEFAULT_INTENTS)
      .describe(
        'Websocket mode only: the intents bitmask to identify with. Default: group and C2C events, direct messages and public guild @-messages.',
      ),
    tokenBase: z
      .url()
      .optional()
      .describe("QQ's token host, where `/app/getAppAccessToken` lives (default `https://bots.qq.com`); point it at a fake server in tests."),
    tokenUrl: z
      .url()
      .optional()
      .describe(
        'Take access tokens from this service instead of QQ: POSTed `{appId, clientSecret}` (plus `invalid_token` when QQ just refused that token), it answers like `getAppAccessToken` (`{access_token, expires_in}`).',
      ),
  })
  .describe(
    'Receives QQ bot webhook events (URL validation, Ed25519 signatures, C2C, group, guild channel and guild DM messages) and replies with `msg_id` and `msg_seq` within QQ\'s reply windows. See docs/channels/qq.md.',
  );

export type QqChannelConfig = z.infer<typeof qqChannelSchema>;

export function apiBaseOf(config: Pick<QqChannelConfig, 'apiBase'>): string {
  return (config.apiBase ?? QQ_API_BASE).replace(/\/+$/, '');
}

export function tokenBaseOf(config: Pick<QqChannelConfig, 'tokenBase'>): string {
  return (config.tokenBase ?? QQ_TOKEN_BASE).replace(/\/+$/, '');
}
