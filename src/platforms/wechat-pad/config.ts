import { z } from 'zod';
import { configNumber } from '../../core/env-scalars.ts';
import { channelBaseSchema } from '../_kit/channel-config.ts';

export const wechatPadChannelSchema = channelBaseSchema
  .extend({
    platform: z.literal('wechat-pad').describe('Personal WeChat through a pad-protocol server.'),
    server: z
      .enum(['wechatpadpro', 'gewechat'])
      .default('wechatpadpro')
      .describe('Which pad-protocol server sends for this account: its send API differs.'),
    key: z.string().min(1).optional().describe('WeChatPadPro auth key (`?key=` on its API); required to send when `server` is wechatpadpro. Also authenticates `/v1/webhook/*` calls for this channel.'),
    token: z.string().min(1).optional().describe('gewechat `X-GEWE-TOKEN`; required to send when `server` is gewechat.'),
    appId: z.string().min(1).optional().describe('gewechat app id of the logged-in account; required to send when `server` is gewechat.'),
    botWxid: z.string().min(1).optional().describe("The bot account's wxid: marks its own messages and mentions of it."),
    auth: z
      .enum(['signature', 'path-token', 'none'])
      .default('signature')
      .describe('How callbacks are authenticated. `none` is for trusted networks only and is warned about at start.'),
    secret: z.string().min(1).optional().describe('The inbound signature secret (HMAC-SHA256); required with `auth: signature`.'),
    signatureFormat: z
      .enum(['colon', 'concat'])
      .default('colon')
      .describe('`colon`: HMAC over `timestamp + ":" + body` (the webhook guide); `concat`: `timestamp + body` (WeChatPadPro\'s client).'),
    timestampWindowSeconds: configNumber(z.number().int().positive())
      .default(300)
      .describe('How far `X-Webhook-Timestamp` may be from now.'),
    pathToken: z
      .string()
      .min(16, 'at least 16 characters')
      .optional()
      .describe('With `auth: path-token`, callbacks must come to `/hooks/<id>/<pathToken>`.'),
  })
  .superRefine((c, ctx) => {
    if (c.auth === 'signature' && !c.secret) {
      ctx.addIssue({ code: 'custom', path: ['secret'], message: 'required when auth is "signature"' });
    }
    if (c.auth === 'path-token' && !c.pathToken) {
      ctx.addIssue({ code: 'custom', path: ['pathToken'], message: 'required when auth is "path-token"' });
    }
    if (c.apiBase && c.server === 'wechatpadpro' && !c.key) {
      ctx.addIssue({ code: 'custom', path: ['key'], message: 'required to send through WeChatPadPro (apiBase is set)' });
    }
    if (c.apiBase && c.server === 'gewechat' && (!c.token || !c.appId)) {
      ctx.addIssue({ code: 'custom', path: [c.token ? 'appId' : 'token'], message: 'token and appId are required to send through gewechat' });
    }
  });

export type WechatPadChannelConfig = z.infer<typeof wechatPadChannelSchema>;
